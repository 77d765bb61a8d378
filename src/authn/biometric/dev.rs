//! The development face matcher: **not a biometric check**. It compares nothing; it answers
//! "matched" for every ID number except those configured to refuse (`face.dev_refuse`,
//! `EIDP_FACE_DEV_REFUSE`), so that the embedded default and the tests can walk the face step
//! both ways. Production refuses to start with it (`config::Face`).

use std::collections::HashSet;

use async_trait::async_trait;

use super::{FaceMatch, FaceMatcher, MatchError};

/// The matcher id recorded with its answers, so no result of it passes for a real match.
pub const DEV_MATCHER_ID: &str = "development";
const MATCH_SCORE: f64 = 0.97;
const REFUSE_SCORE: f64 = 0.08;

pub struct DevMatcher {
    refuse: HashSet<String>,
}

impl DevMatcher {
    /// A matcher that refuses the faces of `refuse` (ID numbers) and matches all others.
    pub fn new(refuse: impl IntoIterator<Item = String>) -> DevMatcher {
        DevMatcher {
            refuse: refuse.into_iter().map(|s| s.trim().to_string()).collect(),
        }
    }
}

#[async_trait]
impl FaceMatcher for DevMatcher {
    async fn verify(
        &self,
        id_number: &str,
        _image: &[u8],
        _content_type: &str,
    ) -> Result<FaceMatch, MatchError> {
        let matched = !self.refuse.contains(id_number);
        Ok(FaceMatch {
            matched,
            score: if matched { MATCH_SCORE } else { REFUSE_SCORE },
            matcher: DEV_MATCHER_ID.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn matches_everyone_but_the_listed_numbers() {
        let m = DevMatcher::new([" 001090000002 ".to_string()]);
        let yes = m.verify("001090000001", b"x", "image/jpeg").await.unwrap();
        assert!(yes.matched && yes.score > 0.9);
        assert_eq!(yes.matcher, DEV_MATCHER_ID);
        let no = m.verify("001090000002", b"x", "image/jpeg").await.unwrap();
        assert!(!no.matched && no.score < 0.5, "{no:?}");
    }
}
