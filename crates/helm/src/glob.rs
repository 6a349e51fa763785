//! The one glob matcher behind `.helmignore` (Go's `filepath.Match`) and `.Files.Glob`
//! (gobwas/glob, which adds `**`): `*` and `?` never cross `/`, `[…]` classes with ranges
//! and `!`/`^` negation, `\` escapes.

/// Whether `name` matches `pattern`; `double_star` lets `**` match across `/`.
pub(crate) fn matches(pattern: &str, name: &str, double_star: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n, double_star)
}

fn go(p: &[char], n: &[char], double_star: bool) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') if double_star && p.get(1) == Some(&'*') => {
            (0..=n.len()).any(|k| go(&p[2..], &n[k..], double_star))
        }
        Some('*') => (0..=n.len())
            .take_while(|&k| k == 0 || n[k - 1] != '/')
            .any(|k| go(&p[1..], &n[k..], double_star)),
        Some('?') => !n.is_empty() && n[0] != '/' && go(&p[1..], &n[1..], double_star),
        Some('[') => {
            let Some(close) = p.iter().skip(1).position(|c| *c == ']').map(|i| i + 1) else {
                return false;
            };
            if n.is_empty() {
                return false;
            }
            let class = &p[1..close];
            let (negated, class) = match class.first() {
                Some('!') | Some('^') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut k = 0;
            while k < class.len() {
                if k + 2 < class.len() && class[k + 1] == '-' {
                    hit |= class[k] <= n[0] && n[0] <= class[k + 2];
                    k += 3;
                } else {
                    hit |= class[k] == n[0];
                    k += 1;
                }
            }
            hit != negated && go(&p[close + 1..], &n[1..], double_star)
        }
        Some('\\') if p.len() > 1 => {
            !n.is_empty() && n[0] == p[1] && go(&p[2..], &n[1..], double_star)
        }
        Some(c) => !n.is_empty() && n[0] == *c && go(&p[1..], &n[1..], double_star),
    }
}
