//! Back-channel logout delivery settings: the `[backchannel]` table and `EIDP_BACKCHANNEL_*`.

use serde::Deserialize;

use super::ConfigError;

/// Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0 §2.5): how often
/// each node looks for due deliveries, how long one may take, and the retry schedule (the
/// wait doubles from `backoff_base_secs` up to `backoff_cap_secs`; after `max_attempts`
/// attempts the delivery is given up, audited and listed for admins).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Backchannel {
    pub poll_millis: u64,
    pub timeout_secs: u64,
    pub backoff_base_secs: i64,
    pub backoff_cap_secs: i64,
    pub max_attempts: i64,
}

impl Default for Backchannel {
    fn default() -> Self {
        // 30 s, 1 min, 2 min … capped at an hour: ten attempts span about three hours, long
        // enough to ride out a relying party's deployment or a short outage.
        Backchannel {
            poll_millis: 2000,
            timeout_secs: 5,
            backoff_base_secs: 30,
            backoff_cap_secs: 3600,
            max_attempts: 10,
        }
    }
}

impl Backchannel {
    /// `EIDP_BACKCHANNEL_*`: each a positive whole number.
    pub(super) fn read_env(
        &mut self,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let b = self;
        fn number<T: std::str::FromStr>(
            env: &impl Fn(&str) -> Option<String>,
            name: &'static str,
            into: &mut T,
        ) -> Result<(), ConfigError> {
            if let Some(v) = env(name) {
                *into = v.trim().parse().map_err(|_| ConfigError::Invalid {
                    name,
                    reason: "must be a whole number".into(),
                })?;
            }
            Ok(())
        }
        number(env, "EIDP_BACKCHANNEL_POLL_MILLIS", &mut b.poll_millis)?;
        number(env, "EIDP_BACKCHANNEL_TIMEOUT_SECS", &mut b.timeout_secs)?;
        number(
            env,
            "EIDP_BACKCHANNEL_BACKOFF_BASE_SECS",
            &mut b.backoff_base_secs,
        )?;
        number(
            env,
            "EIDP_BACKCHANNEL_BACKOFF_CAP_SECS",
            &mut b.backoff_cap_secs,
        )?;
        number(env, "EIDP_BACKCHANNEL_MAX_ATTEMPTS", &mut b.max_attempts)
    }
}

impl Backchannel {
    /// Every setting positive, the cap at least the base.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let b = self;
        let bad = |reason: &str| ConfigError::Invalid {
            name: "backchannel",
            reason: reason.into(),
        };
        if b.poll_millis == 0 || b.timeout_secs == 0 || b.backoff_base_secs < 1 {
            return Err(bad(
                "poll_millis, timeout_secs and backoff_base_secs must be positive",
            ));
        }
        if b.backoff_cap_secs < b.backoff_base_secs || b.max_attempts < 1 {
            return Err(bad(
                "backoff_cap_secs must be at least backoff_base_secs, max_attempts at least 1",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    #[test]
    fn backchannel_knobs_come_from_the_environment_and_are_checked() {
        let cfg = Config::load(None, |k| match k {
            "EIDP_BACKCHANNEL_BACKOFF_BASE_SECS" => Some("1".into()),
            "EIDP_BACKCHANNEL_BACKOFF_CAP_SECS" => Some("4".into()),
            "EIDP_BACKCHANNEL_MAX_ATTEMPTS" => Some("3".into()),
            "EIDP_BACKCHANNEL_POLL_MILLIS" => Some("100".into()),
            _ => None,
        })
        .unwrap();
        let b = &cfg.backchannel;
        assert_eq!(
            (
                b.backoff_base_secs,
                b.backoff_cap_secs,
                b.max_attempts,
                b.poll_millis
            ),
            (1, 4, 3, 100)
        );
        assert_eq!(b.timeout_secs, 5, "the default stays");
        for (k, v) in [
            ("EIDP_BACKCHANNEL_MAX_ATTEMPTS", "0"),
            ("EIDP_BACKCHANNEL_BACKOFF_BASE_SECS", "soon"),
            ("EIDP_BACKCHANNEL_BACKOFF_CAP_SECS", "10"),
        ] {
            let err = Config::load(None, |name| (name == k).then(|| v.to_string()));
            assert!(err.is_err(), "{k}={v} is refused");
        }
    }
}
