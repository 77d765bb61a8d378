//! The biometric factor: a face captured by the browser's camera, matched against the
//! portrait the population register holds for the ID number, by a biometric verification
//! service behind [`FaceMatcher`].
//!
//! Adapters: [`http::HttpMatcher`] calls an external matching service (the production path);
//! [`dev::DevMatcher`] is the development and test stand-in (it compares nothing).
//!
//! The image is sensitive personal data (Decree 356/2025): it goes to the matcher and nowhere
//! else — never stored, logged, audited or put in a token. What is kept is the result
//! ([`FaceCheck`]: matched or not, score, matcher, time), through [`check`].

pub mod dev;
pub mod http;

use std::sync::Arc;

use async_trait::async_trait;

use super::AuthnError;
use crate::clock::UnixTime;
use crate::config::{Face, FaceMatcherKind, Mode};
use crate::store::{AccountRecord, FaceCheck, FaceStore};

/// The largest image accepted (a 640×480 JPEG is ~50 KiB; a phone photo may be larger).
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// The image formats accepted, named by the request's `Content-Type` and confirmed by the
/// bytes' own signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
}

impl ImageType {
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
        }
    }

    /// The type of `bytes` sent as `content_type`, when both agree and the size is allowed.
    pub fn of(content_type: &str, bytes: &[u8]) -> Result<ImageType, ImageError> {
        if bytes.is_empty() {
            return Err(ImageError::Empty);
        }
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(ImageError::TooLarge);
        }
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let (kind, magic): (ImageType, &[u8]) = match mime.as_str() {
            "image/jpeg" => (ImageType::Jpeg, &[0xFF, 0xD8, 0xFF]),
            "image/png" => (ImageType::Png, b"\x89PNG\r\n\x1a\n"),
            _ => return Err(ImageError::Type),
        };
        match bytes.starts_with(magic) {
            true => Ok(kind),
            false => Err(ImageError::Type),
        }
    }
}

/// Why an uploaded image is refused before any matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("no image")]
    Empty,
    #[error("image larger than {MAX_IMAGE_BYTES} bytes")]
    TooLarge,
    #[error("not a JPEG or PNG image")]
    Type,
}

/// A face image to match (borrowed: it lives only as long as the request).
#[derive(Clone, Copy)]
pub struct FaceImage<'a> {
    pub bytes: &'a [u8],
    pub kind: ImageType,
}

impl std::fmt::Debug for FaceImage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the bytes, even in a debug line.
        write!(
            f,
            "FaceImage({}, {} bytes)",
            self.kind.mime(),
            self.bytes.len()
        )
    }
}

/// What a matcher answered.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceMatch {
    pub matched: bool,
    /// Similarity, 0 to 1.
    pub score: f64,
    /// Which matcher (and model) answered.
    pub matcher: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatchError {
    /// The service cannot answer now (down, timed out, failed): try again later.
    #[error("face matcher unavailable: {0}")]
    Unavailable(String),
    /// The service refused our credentials (shared key or client certificate): a
    /// configuration fault; people are told to try later.
    #[error("face matcher refused our credentials: {0}")]
    Unauthorised(String),
    /// The service could not use the image (no face found, unreadable).
    #[error("face image unusable: {0}")]
    BadImage(String),
}

/// A biometric verification service: does the face in `image` belong to the person the
/// register knows under `id_number`?
#[async_trait]
pub trait FaceMatcher: Send + Sync {
    async fn verify(
        &self,
        id_number: &str,
        image: &[u8],
        content_type: &str,
    ) -> Result<FaceMatch, MatchError>;
}

/// The configured matcher, or none when the face step is off.
pub fn from_config(cfg: &Face, mode: Mode) -> Result<Option<Arc<dyn FaceMatcher>>, String> {
    Ok(match cfg.kind(mode) {
        FaceMatcherKind::Off => None,
        FaceMatcherKind::Development => {
            tracing::warn!(
                "face step uses the development matcher: it compares nothing (not for production)"
            );
            Some(Arc::new(dev::DevMatcher::new(cfg.dev_refuse.clone())))
        }
        FaceMatcherKind::Http => Some(Arc::new(http::HttpMatcher::new(cfg)?)),
    })
}

/// Match the account's face and record the result (matched or not). A result that cannot be
/// recorded fails the check: an unrecorded biometric never counts.
pub async fn check(
    db: &dyn FaceStore,
    matcher: &dyn FaceMatcher,
    account: &AccountRecord,
    image: FaceImage<'_>,
    now: UnixTime,
) -> Result<FaceCheck, AuthnError> {
    let m = matcher
        .verify(&account.id_number, image.bytes, image.kind.mime())
        .await
        .map_err(|e| match e {
            MatchError::BadImage(_) => AuthnError::FaceUnusable,
            other => {
                tracing::warn!(error = %other, "face match not made");
                AuthnError::Unavailable(other.to_string())
            }
        })?;
    let c = FaceCheck {
        matched: m.matched,
        score: m.score,
        matcher: m.matcher,
        at: now,
    };
    db.record_face_check(&account.sub, &c).await?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_typed_by_header_and_signature() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];
        let png = b"\x89PNG\r\n\x1a\n....";
        assert_eq!(ImageType::of("image/jpeg", &jpeg), Ok(ImageType::Jpeg));
        assert_eq!(ImageType::of("Image/JPEG; q=1", &jpeg), Ok(ImageType::Jpeg));
        assert_eq!(ImageType::of("image/png", png), Ok(ImageType::Png));
        assert_eq!(
            ImageType::of("image/png", &jpeg),
            Err(ImageError::Type),
            "the bytes must be what the header says"
        );
        assert_eq!(ImageType::of("image/gif", b"GIF89a"), Err(ImageError::Type));
        assert_eq!(ImageType::of("image/jpeg", &[]), Err(ImageError::Empty));
        let big = vec![0xFF; MAX_IMAGE_BYTES + 1];
        assert_eq!(ImageType::of("image/jpeg", &big), Err(ImageError::TooLarge));
    }
}
