//! Globs over `/`-separated repository paths, as Git generators write them: `*`, `?` and
//! `[a-z]` (`[!x]`) within one folder or file name, `**` across any number of folders.

/// Whether `path` matches `pattern` whole.
pub(crate) fn matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    segments(&pattern, &path)
}

fn segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| segments(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((name, remaining)) => {
                name_matches(first.as_bytes(), name.as_bytes()) && segments(rest, remaining)
            }
            None => false,
        },
    }
}

/// One name against one pattern segment, by backtracking over the last `*`.
fn name_matches(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, end)) = class(&pattern[p..], name[n])
                        && matched
                    {
                        p += end;
                        n += 1;
                        continue;
                    }
                }
                c if c == name[n] => {
                    p += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((star_p, star_n)) => {
                p = star_p + 1;
                n = star_n + 1;
                star = Some((star_p, star_n + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

/// A `[…]` class at the start of `pattern`: whether `c` is in it, and the class's length.
fn class(pattern: &[u8], c: u8) -> Option<(bool, usize)> {
    let close = pattern.iter().skip(2).position(|b| *b == b']')? + 2;
    let body = &pattern[1..close];
    let (negated, body) = match body.first() {
        Some(b'!' | b'^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut found = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == b'-' {
            found |= (body[i]..=body[i + 2]).contains(&c);
            i += 3;
        } else {
            found |= body[i] == c;
            i += 1;
        }
    }
    Some((found != negated, close + 1))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_stay_within_a_name_and_double_stars_cross_folders() {
        assert!(matches("apps/*", "apps/web"));
        assert!(!matches("apps/*", "apps/web/overlays"));
        assert!(!matches("apps/*", "apps"));
        assert!(matches("apps/**", "apps/web/overlays"));
        assert!(matches("**/config.json", "config.json"));
        assert!(matches("**/config.json", "clusters/eu/prod/config.json"));
        assert!(matches("clusters/*/config.json", "clusters/eu/config.json"));
        assert!(matches("apps/w*b", "apps/web"));
        assert!(matches("apps/*-prod", "apps/shop-prod"));
        assert!(!matches("apps/*-prod", "apps/shop-dev"));
        assert!(matches("env/[ds]*", "env/dev"));
        assert!(!matches("env/[!ds]*", "env/dev"));
        assert!(matches("env/v[0-9]", "env/v7"));
        assert!(matches("env/?ev", "env/dev"));
        assert!(matches("/apps/*/", "apps/web"));
    }
}
