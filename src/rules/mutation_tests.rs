//! Tests of the registry's check of rule codes given to `--ignore` (issue 15: `check_rule_code -> Ok(())` survived
//! the lib tests).

use super::{check_rule_code, codes};

/// `--ignore` takes a registered code or `*`; anything else is refused with the nearest code, or the list of codes.
#[test]
fn ignore_takes_registered_codes_and_refuses_the_rest() {
    for code in codes() {
        assert_eq!(check_rule_code(code), Ok(()), "{code}");
    }
    assert_eq!(check_rule_code("*"), Ok(()));
    assert_eq!(check_rule_code("TIS0260"), Err("unknown rule code `TIS0260`; did you mean `TIS0206`?".to_string()));
    let far = check_rule_code("NOPE").err().unwrap_or_default();
    assert!(far.starts_with("unknown rule code `NOPE`; the rule codes are TIS0205, TIS0206,"), "{far}");
    assert!(far.ends_with("(or `*` for all)"), "{far}");
    assert!(check_rule_code("").is_err());
}
