//! Target profiles: a device family's name chooses the model format and precision a bundle carries.

use serde::Serialize;

/// A named device profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Target {
    pub name: &'static str,
    /// The Rust target triple of the device's mlgate/tract build.
    pub triple: &'static str,
    /// The model format the bundle carries for it.
    pub format: &'static str,
    /// The precision the bundle carries without `--quantize`.
    pub precision: &'static str,
    /// What the profile is for, for `--help` and README.
    pub note: &'static str,
}

/// Every profile, in the order README lists them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "linux-x86_64",
        triple: "x86_64-unknown-linux-gnu",
        format: "onnx",
        precision: "fp32",
        note: "servers and edge boxes with x86-64 CPUs (AVX2 and FMA used by tract when present)",
    },
    Target {
        name: "linux-aarch64",
        triple: "aarch64-unknown-linux-gnu",
        format: "onnx",
        precision: "fp32",
        note: "64-bit ARM boards (Raspberry Pi 4/5 with a 64-bit OS, Jetson CPUs, Graviton)",
    },
    Target {
        name: "linux-armv7",
        triple: "armv7-unknown-linux-gnueabihf",
        format: "onnx",
        precision: "fp32",
        note: "32-bit ARM boards with NEON (Raspberry Pi 2/3 with a 32-bit OS)",
    },
];

impl Target {
    /// The profile named `name`; the error lists the known ones.
    pub fn named(name: &str) -> Result<Target, String> {
        TARGETS
            .iter()
            .copied()
            .find(|t| t.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
                format!(
                    "unknown target {name:?}: the targets are {}",
                    known.join(", ")
                )
            })
    }

    /// The profile of the machine mlgate runs on, from the OS and CPU it was built for; `None` where no profile
    /// describes it (then [`Target::machine_name`] names it).
    pub fn this_machine() -> Option<Target> {
        let name = Target::machine_name();
        TARGETS.iter().copied().find(|t| t.name == name)
    }

    /// The target a device expects bundles for: `explicit` (`--target`), else `machine`'s; the error says that a
    /// machine no profile describes (`machine_name`) must name one.
    pub fn expected(
        explicit: Option<&str>,
        machine: Option<Target>,
        machine_name: &str,
    ) -> Result<String, String> {
        match (explicit, machine) {
            (Some(t), _) => Ok(t.to_string()),
            (None, Some(t)) => Ok(t.name.to_string()),
            (None, None) => Err(format!(
                "this machine ({machine_name}) is none of the bundle targets: pass --target TARGET to say which \
                 bundles it runs"
            )),
        }
    }

    /// `OS-ARCH` of this machine as mlgate names targets: `linux-x86_64`, `linux-aarch64`, `linux-armv7`,
    /// `macos-aarch64`, ...
    pub fn machine_name() -> String {
        let arch = match std::env::consts::ARCH {
            // Rust's `arm` is 32-bit ARM; mlgate's only 32-bit ARM profile is ARMv7 with hard float.
            "arm" => "armv7",
            other => other,
        };
        format!("{}-{arch}", std::env::consts::OS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for t in TARGETS {
            assert_eq!(Target::named(t.name).unwrap(), *t);
        }
        assert!(Target::named("windows")
            .unwrap_err()
            .contains("linux-x86_64, linux-aarch64, linux-armv7"));
    }

    #[test]
    fn the_expected_target_is_the_flag_else_the_machine() {
        let x86 = Target::named("linux-x86_64").ok();
        assert_eq!(
            Target::expected(Some("linux-armv7"), x86, "linux-x86_64").unwrap(),
            "linux-armv7"
        );
        assert_eq!(
            Target::expected(None, x86, "linux-x86_64").unwrap(),
            "linux-x86_64"
        );
        assert_eq!(
            Target::expected(None, None, "macos-aarch64").unwrap_err(),
            "this machine (macos-aarch64) is none of the bundle targets: pass --target TARGET to say which \
             bundles it runs"
        );
    }

    #[test]
    fn this_machine_is_named_like_a_target() {
        let name = Target::machine_name();
        assert!(name.starts_with(std::env::consts::OS), "{name}");
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert_eq!(Target::this_machine().map(|t| t.name), Some("linux-x86_64"));
        }
        if cfg!(all(target_os = "linux", target_arch = "aarch64")) {
            assert_eq!(
                Target::this_machine().map(|t| t.name),
                Some("linux-aarch64")
            );
        }
        if cfg!(target_os = "macos") {
            assert_eq!(Target::this_machine(), None);
        }
    }
}
