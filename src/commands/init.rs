use crate::cli::InitArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::init::{init, InitOptions};

/// The action the generated workflows use: this version's release.
fn action_ref() -> String {
    format!("mlgate/mlgate@v{}", env!("CARGO_PKG_VERSION"))
}

pub fn run(a: InitArgs) -> Result<Exit> {
    let outcome = init(&InitOptions {
        dir: a.dir,
        force: a.force,
        action: action_ref(),
        default_branch: "main".into(),
    })?;
    for f in &outcome.written {
        println!("wrote {f}");
    }
    for n in &outcome.notes {
        eprintln!("note: {n}");
    }
    println!(
        "next: review mlgate.yml and the schemas, run `mlgate check`, then commit; the workflows gate every pull request"
    );
    Ok(Exit::Pass)
}
