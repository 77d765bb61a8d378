//! Paths of the people-facing pages, the admin API and the operational endpoints: shared by
//! the router, the redirects and the templates' forms. (Protocol endpoints, which discovery
//! publishes, are in `oidc::paths`.)

pub const AUTHORIZE_RESUME: &str = "/authorize/resume";
pub const LOGIN: &str = "/login";
pub const STEP_UP: &str = "/login/step-up";
pub const STEP_UP_SMS: &str = "/login/step-up/sms";
pub const STEP_UP_EMAIL: &str = "/login/step-up/email";
/// One camera frame for the face step (the body is the JPEG or PNG).
pub const STEP_UP_FACE: &str = "/login/step-up/face";
pub const CONSENT: &str = "/consent";
pub const RECOVER: &str = "/recover";
pub const RECOVER_CODE: &str = "/recover/code";
pub const RECOVER_PASSWORD: &str = "/recover/password";
pub const ENROL: &str = "/enrol";
pub const ENROL_OTP: &str = "/enrol/otp";
pub const ENROL_RESEND: &str = "/enrol/resend";
pub const ENROL_PASSWORD: &str = "/enrol/password";
pub const ACCOUNT: &str = "/account";
pub const ACCOUNT_PASSWORD: &str = "/account/password";
pub const ACCOUNT_LOCK: &str = "/account/lock";
pub const ACCOUNT_SESSION_END: &str = "/account/sessions/end";
pub const ACCOUNT_CONFIRM: &str = "/account/confirm";
pub const ACCOUNT_CONFIRM_SMS: &str = "/account/confirm/sms";
pub const ACCOUNT_TOTP_START: &str = "/account/totp/start";
pub const ACCOUNT_TOTP_CONFIRM: &str = "/account/totp/confirm";
pub const ACCOUNT_TOTP_REMOVE: &str = "/account/totp/remove";
pub const ACCOUNT_RECOVERY: &str = "/account/recovery";
pub const ACCOUNT_PASSKEY_RENAME: &str = "/account/passkeys/rename";
pub const ACCOUNT_CONSENT_RECEIPT: &str = "/account/consents/{id}";
pub const ACCOUNT_CONSENT_WITHDRAW: &str = "/account/consents/withdraw";
pub const ACCOUNT_PASSKEY_DELETE: &str = "/account/passkeys/delete";
pub const WEBAUTHN_REGISTER_START: &str = "/webauthn/register/start";
pub const WEBAUTHN_REGISTER_FINISH: &str = "/webauthn/register/finish";
pub const WEBAUTHN_LOGIN_START: &str = "/webauthn/login/start";
pub const WEBAUTHN_LOGIN_FINISH: &str = "/webauthn/login/finish";
pub const WEBAUTHN_SECOND_START: &str = "/webauthn/second/start";
pub const WEBAUTHN_SECOND_FINISH: &str = "/webauthn/second/finish";
pub const WEBAUTHN_JS: &str = "/static/webauthn.js";
pub const FACE_JS: &str = "/static/face.js";
pub const ADMIN_VERIFY: &str = "/admin/v1/accounts/{id_number}/verify";
pub const ADMIN_LOCK: &str = "/admin/v1/accounts/{id_number}/lock";
pub const ADMIN_UNLOCK: &str = "/admin/v1/accounts/{id_number}/unlock";
/// Back-channel logouts that did not arrive (`?state=pending|failed` narrows the list).
pub const ADMIN_BACKCHANNEL_LOGOUTS: &str = "/admin/v1/backchannel-logouts";
/// Upload a register file (CSV or JSON Lines) to import.
pub const ADMIN_CITIZENS_IMPORT: &str = "/admin/v1/citizens/import";
pub const ADMIN_CLIENTS: &str = "/admin/v1/clients";
pub const ADMIN_CLIENT: &str = "/admin/v1/clients/{client_id}";
pub const ADMIN_CLIENT_SECRET: &str = "/admin/v1/clients/{client_id}/secret";
pub const ADMIN_CLIENT_DISABLE: &str = "/admin/v1/clients/{client_id}/disable";
pub const ADMIN_CLIENT_ENABLE: &str = "/admin/v1/clients/{client_id}/enable";
/// A hospital's insurance look-ups, flagged (`?client_id=…&since=YYYY-MM-DD&limit=…`).
pub const ADMIN_INSURANCE_LOOKUPS: &str = "/admin/v1/insurance/lookups";
/// Hospitals' health-insurance eligibility look-up (client credentials).
pub const INSURANCE_ELIGIBILITY: &str = "/api/insurance/v1/eligibility";
pub const LANG: &str = "/lang";
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const METRICS: &str = "/metrics";
