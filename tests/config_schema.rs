//! `mlgate.schema.json` (the JSON Schema of mlgate.yml, for editors) is generated from the config structs.
//! This test fails when the committed file is stale; regenerate it with
//! `MLGATE_BLESS=1 cargo test --test config_schema`.

#[test]
fn committed_config_schema_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mlgate.schema.json");
    let fresh = mlgate::config::json_schema();
    if std::env::var_os("MLGATE_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "mlgate.schema.json is stale: run `MLGATE_BLESS=1 cargo test --test config_schema` and commit it"
    );
}

#[test]
fn examples_configs_load() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut n = 0;
    for entry in std::fs::read_dir(root).unwrap() {
        let cfg = entry.unwrap().path().join("mlgate.yml");
        if cfg.exists() {
            mlgate::config::Config::load(&cfg).unwrap();
            n += 1;
        }
    }
    assert!(
        n >= 2,
        "expected at least two example repositories, found {n}"
    );
}
