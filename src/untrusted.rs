//! Running a dependency's parser or interpreter (tract, arrow-rs) on input from outside: some of their code panics
//! on malformed data instead of returning an error. Such a panic is bad input, not a bug of mlgate's, so it becomes
//! an error (exit 2) and, unlike the default panic hook, prints nothing: the user sees one clean message.
//!
//! A panic anywhere else still prints Rust's usual message: the hook stays quiet only on a thread that is inside
//! [`catch`].

use std::cell::Cell;
use std::sync::Once;

thread_local! {
    /// How many [`catch`] calls are running on this thread (they may nest: model loading inside planning).
    static INSIDE: Cell<u32> = const { Cell::new(0) };
}

static HOOK: Once = Once::new();

/// Installs, once per process, a panic hook that stays silent on threads inside [`catch`] and otherwise does
/// what the hook it replaces did.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if INSIDE.with(Cell::get) == 0 {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into `Err` with the panic's message (what `panic!` was given).
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    INSIDE.with(|n| n.set(n.get() + 1));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    INSIDE.with(|n| n.set(n.get().saturating_sub(1)));
    outcome.map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

#[cfg(test)]
mod tests {
    use super::catch;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(
            catch(|| -> u8 { panic!("index 7 out of range") }),
            Err("index 7 out of range".to_string())
        );
        let n = 3;
        assert_eq!(
            catch(|| -> u8 { panic!("shift by {n}") }),
            Err("shift by 3".to_string())
        );
    }

    #[test]
    fn a_value_passes_through_and_nesting_unwinds_the_count() {
        assert_eq!(catch(|| catch(|| 5)), Ok(Ok(5)));
        assert_eq!(
            catch(|| catch(|| -> u8 { panic!("inner") })),
            Ok(Err("inner".into()))
        );
        assert_eq!(super::INSIDE.with(std::cell::Cell::get), 0);
    }
}
