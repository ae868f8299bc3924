//! Command-line behaviour as trycmd cases (`tests/cmd/*.toml`): arguments, output and exit code.
//! Regenerate expected output after an intended change with `TRYCMD=overwrite cargo test --test cli`.
//! trycmd folds backslashes into `/` before comparing, so JSON escaping is checked by parsing in tests/outputs.rs.

#[test]
fn cli_cases() {
    trycmd::TestCases::new()
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "false")
        .case("tests/cmd/*.toml");
}
