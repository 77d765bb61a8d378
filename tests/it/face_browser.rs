//! The face step in a real browser: Debian's chromium with a fake camera fed from a small
//! Y4M video this test writes (tests/browser/face.mjs). Skipped without chromium or
//! playwright-core, like the other browser tests.

use serde_json::json;

use crate::browser::{chromium, node, rp_env};
use crate::common::start_on_localhost;
use crate::face::{latest, loa3_client};

/// A tiny YUV4MPEG2 video (4:2:0): `frames` frames of `w`×`h`, a gradient whose brightness
/// moves from frame to frame, so the capture is a real picture, not a blank one.
pub(crate) fn y4m(w: usize, h: usize, frames: usize) -> Vec<u8> {
    let mut out = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for f in 0..frames {
        out.extend_from_slice(b"FRAME\n");
        for y in 0..h {
            out.extend((0..w).map(|x| ((x + y + 8 * f) % 220 + 16) as u8));
        }
        let chroma = (w / 2) * (h / 2);
        out.extend(std::iter::repeat_n(110u8, chroma));
        out.extend(std::iter::repeat_n(150u8, chroma));
    }
    out
}

#[test]
fn the_video_has_the_size_y4m_says() {
    let v = y4m(4, 2, 2);
    let header = b"YUV4MPEG2 W4 H2 F10:1 Ip A1:1 C420jpeg\n".len();
    // Each frame: "FRAME\n", 8 luma bytes, 2 + 2 chroma bytes.
    assert_eq!(v.len(), header + 2 * (6 + 8 + 2 + 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_takes_the_face_step_with_a_fake_camera() {
    let Some(chromium) = chromium() else {
        return;
    };
    let s = start_on_localhost().await;
    let who = s.citizen(180).await;
    let (c, secret) = loa3_client(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("face.y4m");
    std::fs::write(&video, y4m(160, 120, 10)).unwrap();
    let mut env = rp_env(&s, (&c, secret), &who, chromium);
    env.push(("EIDP_FAKE_VIDEO", video.display().to_string()));
    let line = node("face.mjs", env).await;
    eprintln!("browser face test: {line}");
    assert_eq!(line["sub"], s.sub_at(&c, &who.sub));
    assert_eq!(line["acr"], "urn:vn:eid:loa:3");
    assert_eq!(line["amr"], json!(["pwd", "face", "mfa"]));
    assert!(
        line["denied_message"]
            .as_str()
            .is_some_and(|m| m.contains("blocked"))
    );
    let check = latest(&s, &who.sub).await.unwrap();
    assert!(check.matched);
}
