//! The password rule VNeID uses: 8–20 characters with upper case, lower case, a digit and a
//! symbol. Checked where a person chooses a password, never at sign-in.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleError {
    #[error("password must be 8 to 20 characters (found {0})")]
    Length(usize),
    #[error("password needs an upper-case letter, a lower-case letter, a digit and a symbol")]
    Classes,
}

pub fn check(password: &str) -> Result<(), PasswordRuleError> {
    let n = password.chars().count();
    if !(8..=20).contains(&n) {
        return Err(PasswordRuleError::Length(n));
    }
    let upper = password.chars().any(char::is_uppercase);
    let lower = password.chars().any(char::is_lowercase);
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let symbol = password
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace());
    if upper && lower && digit && symbol {
        Ok(())
    } else {
        Err(PasswordRuleError::Classes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_table() {
        assert_eq!(check("Abcdef1!"), Ok(()));
        assert_eq!(check("Mật-khẩu9Đ"), Ok(()));
        assert_eq!(check("Abc1!"), Err(PasswordRuleError::Length(5)));
        assert_eq!(
            check("Abcdefghij1!Abcdefghij"),
            Err(PasswordRuleError::Length(22))
        );
        assert_eq!(check("abcdefg1!"), Err(PasswordRuleError::Classes));
        assert_eq!(check("ABCDEFG1!"), Err(PasswordRuleError::Classes));
        assert_eq!(check("Abcdefgh!"), Err(PasswordRuleError::Classes));
        assert_eq!(check("Abcdefgh1"), Err(PasswordRuleError::Classes));
    }
}
