//! Who made a commit, when, why, and on top of what: what the deploy history shows.
//!
//! Read from the raw commit object (`git cat-file commit`), not from `git log`: a shallow
//! cache hides parents from `git log`, while the object itself always names them.

use std::fmt;

/// A commit id: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitId(String);

impl CommitId {
    /// Accepts a full commit id; `None` for anything else.
    pub fn new(id: &str) -> Option<Self> {
        let id = id.trim();
        ((id.len() == 40 || id.len() == 64)
            && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| CommitId(id.to_owned()))
    }

    /// The full id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 7 digits, as people write them.
    pub fn short(&self) -> &str {
        &self.0[..7]
    }
}

impl fmt::Display for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person and a moment: the author or committer of a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
    /// The person's offset from UTC, in minutes (`+0130` → 90).
    pub utc_offset_minutes: i32,
}

/// What the deploy history records of a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitMetadata {
    /// The commit.
    pub id: CommitId,
    /// Its parents (none for a root commit, two or more for a merge).
    pub parents: Vec<CommitId>,
    /// Who wrote the change.
    pub author: Signature,
    /// Who made the commit.
    pub committer: Signature,
    /// The full message.
    pub message: String,
    /// Whether the commit carries a signature (verified or not; see `Verification`).
    pub signed: bool,
}

impl CommitMetadata {
    /// The first line of the message.
    pub fn summary(&self) -> &str {
        self.message.lines().next().unwrap_or_default()
    }

    /// Parses a raw commit object; `None` when it is not one.
    pub(crate) fn parse(id: CommitId, raw: &[u8]) -> Option<Self> {
        let text = String::from_utf8_lossy(raw);
        let (headers, message) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut parents = Vec::new();
        let mut author = None;
        let mut committer = None;
        let mut signed = false;
        for line in headers.lines() {
            // Continuation lines of a multi-line header (a signature) start with a space.
            if line.starts_with(' ') {
                continue;
            }
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "parent" => parents.push(CommitId::new(value)?),
                "author" => author = Some(parse_signature(value)?),
                "committer" => committer = Some(parse_signature(value)?),
                "gpgsig" | "gpgsig-sha256" => signed = true,
                _ => {}
            }
        }
        Some(CommitMetadata {
            id,
            parents,
            author: author?,
            committer: committer?,
            message: message.trim_end_matches('\n').to_owned(),
            signed,
        })
    }
}

/// `Name <email> 1700000000 +0100`.
fn parse_signature(value: &str) -> Option<Signature> {
    let open = value.find('<')?;
    let close = value.rfind('>')?;
    let mut when = value[close + 1..].split_whitespace();
    let time = when.next()?.parse().ok()?;
    let offset = when.next().unwrap_or("+0000");
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits = offset.trim_start_matches(['+', '-']);
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..4)?.parse().ok()?;
    Some(Signature {
        name: value[..open].trim().to_owned(),
        email: value[open + 1..close].to_owned(),
        time,
        utc_offset_minutes: sign * (hours * 60 + minutes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_merge_commit_is_read_whole() {
        let raw = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
parent aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\
parent bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n\
author Ada Lovelace <ada@example.com> 1700000000 +0130\n\
committer Bo <bo@example.com> 1700000100 -0500\n\
gpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n -----END SSH SIGNATURE-----\n\
\n\
Deploy web 1.4\n\nWhy: traffic.\n";
        let id = CommitId::new(&"c".repeat(40)).unwrap();
        let meta = CommitMetadata::parse(id, raw.as_bytes()).unwrap();
        assert_eq!(meta.parents.len(), 2);
        assert_eq!(meta.author.name, "Ada Lovelace");
        assert_eq!(meta.author.email, "ada@example.com");
        assert_eq!(meta.author.utc_offset_minutes, 90);
        assert_eq!(meta.committer.time, 1_700_000_100);
        assert_eq!(meta.committer.utc_offset_minutes, -300);
        assert_eq!(meta.summary(), "Deploy web 1.4");
        assert_eq!(meta.message, "Deploy web 1.4\n\nWhy: traffic.");
        assert!(meta.signed);
    }

    #[test]
    fn commit_ids_are_full_lower_case_hex() {
        assert!(CommitId::new(&"a".repeat(40)).is_some());
        assert!(CommitId::new("abc1234").is_none());
        assert!(CommitId::new(&"A".repeat(40)).is_none());
    }
}
