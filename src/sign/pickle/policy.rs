//! Which globals a pickle may name. Unpickling imports every global it names and calls what the stream tells it
//! to call, so the scan allows only what model files of the common libraries need (an allow-list), and names the
//! well-known ways to run code (a deny-list) so that the finding says why.
//!
//! Allowed:
//! - Python's plain data types (`builtins.set`, `collections.OrderedDict`, `datetime.datetime`, ...) and the
//!   helpers the pickle protocol itself uses (`copyreg._reconstructor`, `_codecs.encode`);
//! - NumPy arrays, dtypes, scalars, random generators and its math ufuncs;
//! - PyTorch tensors, storages, parameters, dtypes and `torch.nn` modules, and TorchScript's list builders and
//!   compiled classes (`torch.jit._pickle.build_*`, `__torch__.*`);
//! - joblib's array wrapper;
//! - the classes (names that start with a capital letter) of scikit-learn, SciPy, pandas' data structures
//!   (`pandas.core`, `pandas._libs`) and the model modules of XGBoost, LightGBM and CatBoost, plus their
//!   Cython/pandas unpickling helpers (`__pyx_unpickle_*`, `_unpickle_*`, `newObj`, ...).
//!
//! An allowed name must be safe to call with any arguments a pickle gives it: a class whose constructor or
//! `__setstate__` evaluates text, writes files or imports modules is not data. So `numpy.memmap` (creates files),
//! pandas' top level and `pandas.io` (`HDFStore`, `ExcelWriter`), `pandas.core.computation` (evaluates
//! expressions), `scipy.io` (`FortranFile`), `scipy.LowLevelCallable` (native code), scikit-learn's testing and
//! dataset helpers are not allowed, and two allowed callables are checked at the call: `_codecs.encode` only with
//! a plain encoding (any other name imports a codec module), `numpy.matrix` never with text.
//!
//! Everything else is not allowed. A name with a dot (`Class.attribute`, protocol 4's attribute path) is only
//! allowed when listed whole: it reaches attributes, the way `getattr` does.

/// What a global is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// On the allow-list.
    Safe,
    /// Not allowed, and known to run code or reach the system; the text says what it does.
    Dangerous(&'static str),
    /// Not on the allow-list.
    Unknown,
    /// Allowed, but looks up another global by the names in its arguments (`numpy._core._ufunc_reconstruct`):
    /// the walker classifies those names when it is called.
    Lookup,
}

/// Classifies `module.name`; `extra` holds the caller's own allowances (`pkg.mod.Name` or `pkg.*`).
pub fn classify(module: &str, name: &str, extra: &[String]) -> Class {
    if let Some(why) = dangerous(module, name) {
        return Class::Dangerous(why);
    }
    if is_lookup(module, name) {
        return Class::Lookup;
    }
    if safe(module, name) || extra.iter().any(|p| allowed_by(p, module, name)) {
        return Class::Safe;
    }
    Class::Unknown
}

fn allowed_by(pattern: &str, module: &str, name: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix(".*") {
        // `pkg.*` allows every global of pkg and its submodules (names with a dot included: the user asked).
        return module == prefix || module.starts_with(&format!("{prefix}."));
    }
    // Exact names only: an attribute path (`Class.attr`) is never allowed by a plain name.
    !name.contains('.')
        && pattern.len() == module.len() + 1 + name.len()
        && pattern.starts_with(module)
        && pattern[module.len()..].starts_with('.')
        && pattern.ends_with(name)
}

fn top(module: &str) -> &str {
    module.split('.').next().unwrap_or(module)
}

/// Modules whose every global reaches the system, runs code or loads more pickles.
const DANGEROUS_MODULES: &[(&str, &str)] = &[
    ("os", "reaches the operating system (files, processes)"),
    ("posix", "reaches the operating system (files, processes)"),
    ("nt", "reaches the operating system (files, processes)"),
    ("subprocess", "runs programs"),
    ("pty", "runs programs"),
    ("commands", "runs shell commands"),
    ("popen2", "runs programs"),
    ("sys", "reaches the interpreter's internals"),
    ("runpy", "runs Python modules"),
    ("importlib", "imports any module"),
    ("imp", "imports any module"),
    ("code", "runs Python code"),
    ("codeop", "compiles Python code"),
    ("ctypes", "calls native code"),
    ("_ctypes", "calls native code"),
    ("types", "builds functions and code objects"),
    ("marshal", "loads code objects"),
    ("pickle", "loads more pickles, unchecked"),
    ("_pickle", "loads more pickles, unchecked"),
    ("cPickle", "loads more pickles, unchecked"),
    ("dill", "loads pickled code"),
    ("cloudpickle", "builds functions from pickled code"),
    ("shelve", "loads more pickles, unchecked"),
    ("shutil", "copies, moves and deletes files"),
    ("socket", "opens network connections"),
    ("http", "makes network requests"),
    ("urllib", "makes network requests"),
    ("urllib2", "makes network requests"),
    ("urllib3", "makes network requests"),
    ("requests", "makes network requests"),
    ("httpx", "makes network requests"),
    ("ftplib", "makes network requests"),
    ("smtplib", "sends mail"),
    ("telnetlib", "opens network connections"),
    ("webbrowser", "opens a browser"),
    ("multiprocessing", "starts processes"),
    ("threading", "starts threads"),
    ("_thread", "starts threads"),
    ("asyncio", "runs subprocesses and network I/O"),
    ("signal", "changes signal handlers"),
    ("pip", "installs packages"),
    ("setuptools", "runs build code"),
    ("distutils", "runs build code"),
    ("io", "opens files"),
    ("_io", "opens files"),
    ("tempfile", "creates files"),
    // Public bypasses of deny-list scanners, 2024-2025 (picklescan's and modelscan's advisories): each runs code,
    // starts programs or reaches files or the network when called with text from the pickle.
    ("cProfile", "runs Python code (run, runctx)"),
    ("profile", "runs Python code (run, runctx)"),
    ("pstats", "loads marshal data"),
    ("timeit", "runs Python code"),
    ("trace", "runs Python code"),
    ("bdb", "runs Python code"),
    ("pdb", "runs Python code"),
    ("doctest", "runs Python code"),
    (
        "pydoc",
        "runs programs (pipepager) and imports any module (locate)",
    ),
    ("idlelib", "runs Python code"),
    ("lib2to3", "evaluates text"),
    ("ensurepip", "runs pip"),
    ("venv", "creates environments and runs programs"),
    ("pkgutil", "imports any module (resolve_name)"),
    ("zipimport", "imports modules from files"),
    ("_osx_support", "runs programs"),
    ("_aix_support", "runs programs"),
    ("imaplib", "runs programs (IMAP4_stream)"),
    ("_pyrepl", "runs programs"),
    ("_posixsubprocess", "runs programs"),
    ("_winapi", "runs programs"),
    ("functools", "calls any function (partial, reduce)"),
    ("operator", "reaches attributes and calls functions"),
    ("_operator", "reaches attributes and calls functions"),
    ("logging", "opens files and network connections"),
    ("linecache", "reads files"),
    ("pathlib", "reads and writes files"),
    ("glob", "lists files"),
    ("fileinput", "reads files"),
    ("zipfile", "reads and writes files"),
    ("tarfile", "reads and writes files"),
    ("gzip", "opens files"),
    ("bz2", "opens files"),
    ("lzma", "opens files"),
    ("codecs", "opens files"),
    ("mmap", "maps files into memory"),
    ("sqlite3", "opens databases"),
    ("ssl", "opens network connections"),
    ("httplib", "makes network requests"),
    ("aiohttp", "makes network requests"),
    ("xmlrpc", "makes network requests"),
    ("socketserver", "opens network servers"),
    ("poplib", "opens network connections"),
    ("nntplib", "opens network connections"),
    ("gc", "reaches every object of the interpreter"),
    ("inspect", "reaches the interpreter's frames"),
    ("platform", "runs programs"),
    ("mailcap", "runs programs"),
    ("cgitb", "writes files"),
    ("antigravity", "opens a web browser when imported"),
];

/// Single globals that run code or load unchecked data.
const DANGEROUS_NAMES: &[(&str, &str, &str)] = &[
    ("os", "system", "runs shell commands"),
    ("posix", "system", "runs shell commands"),
    ("nt", "system", "runs shell commands"),
    ("os", "popen", "runs shell commands"),
    ("posix", "popen", "runs shell commands"),
    ("nt", "popen", "runs shell commands"),
    ("builtins", "eval", "runs Python code"),
    ("builtins", "exec", "runs Python code"),
    ("builtins", "execfile", "runs Python code"),
    ("builtins", "compile", "compiles Python code"),
    ("builtins", "open", "opens files"),
    ("builtins", "file", "opens files"),
    ("builtins", "__import__", "imports any module"),
    ("builtins", "reload", "re-runs a module"),
    (
        "builtins",
        "getattr",
        "reaches any attribute (e.g. os.system)",
    ),
    ("builtins", "setattr", "changes any attribute"),
    ("builtins", "delattr", "deletes any attribute"),
    ("builtins", "globals", "reaches the interpreter's globals"),
    ("builtins", "locals", "reaches the interpreter's locals"),
    ("builtins", "vars", "reaches any object's attributes"),
    ("builtins", "input", "reads the terminal"),
    ("builtins", "raw_input", "reads the terminal"),
    ("builtins", "breakpoint", "starts a debugger"),
    ("builtins", "help", "starts the interactive help"),
    ("builtins", "exit", "exits the interpreter"),
    ("builtins", "quit", "exits the interpreter"),
    ("builtins", "apply", "calls any function"),
    ("operator", "attrgetter", "reaches any attribute"),
    ("operator", "methodcaller", "calls any method by name"),
    ("_operator", "attrgetter", "reaches any attribute"),
    ("_operator", "methodcaller", "calls any method by name"),
    ("numpy", "load", "loads pickles inside .npy files"),
    ("numpy.lib.npyio", "load", "loads pickles inside .npy files"),
    (
        "numpy.testing._private.utils",
        "runstring",
        "runs Python code",
    ),
    ("torch", "load", "loads pickles, unchecked"),
    ("torch.serialization", "load", "loads pickles, unchecked"),
    (
        "torch.storage",
        "_load_from_bytes",
        "loads pickles, unchecked",
    ),
    ("joblib", "load", "loads pickles, unchecked"),
    ("joblib.numpy_pickle", "load", "loads pickles, unchecked"),
    ("pandas", "read_pickle", "loads pickles, unchecked"),
    ("numpy", "memmap", "creates and writes files"),
    ("numpy", "fromfile", "reads files"),
    ("numpy", "loadtxt", "reads files"),
    ("numpy", "genfromtxt", "reads files"),
    ("pandas", "eval", "evaluates expressions"),
    ("pandas", "HDFStore", "creates and writes files"),
    ("pandas", "ExcelWriter", "creates and writes files"),
    ("pandas", "ExcelFile", "reads files"),
    ("scipy", "LowLevelCallable", "calls native code"),
    ("uuid", "_get_command_stdout", "runs programs"),
    ("uuid", "_popen", "runs programs"),
    (
        "pandas.io.pickle",
        "read_pickle",
        "loads pickles, unchecked",
    ),
];

fn dangerous(module: &str, name: &str) -> Option<&'static str> {
    let m = match module {
        "__builtin__" | "__builtins__" => "builtins",
        m => m,
    };
    // Attribute paths are judged by their first part: `eval.__call__` is `eval`.
    let first = name.split('.').next().unwrap_or(name);
    DANGEROUS_NAMES
        .iter()
        .find(|(dm, dn, _)| *dm == m && *dn == first)
        .map(|(_, _, why)| *why)
        .or_else(|| {
            DANGEROUS_MODULES
                .iter()
                .find(|(d, _)| *d == top(m))
                .map(|(_, why)| *why)
        })
        .or_else(|| {
            DANGEROUS_SUBMODULES
                .iter()
                .find(|(d, _)| within(m, d))
                .map(|(_, why)| *why)
        })
}

/// `module` is `package` or one of its submodules.
fn within(module: &str, package: &str) -> bool {
    module
        .strip_prefix(package)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Parts of otherwise allowed libraries that run code, reach files or the network, or load pickles.
const DANGEROUS_SUBMODULES: &[(&str, &str)] = &[
    ("numpy.f2py", "builds and runs native code"),
    ("numpy.distutils", "builds and runs native code"),
    ("numpy.ctypeslib", "loads native libraries"),
    ("numpy.testing", "runs Python code"),
    ("numpy.lib.format", "loads pickles inside .npy files"),
    ("numpy.lib.npyio", "loads pickles inside .npy files"),
    ("torch.hub", "downloads and runs code"),
    ("test.support", "runs programs"),
    ("torch._dynamo", "runs Python code (guards)"),
    ("torch._inductor", "compiles and runs code"),
    ("torch.fx", "evaluates text"),
    (
        "torch.utils.bottleneck",
        "runs Python code under a profiler",
    ),
    ("torch.utils.collect_env", "runs programs"),
    ("torch.utils.data", "loads pickles and runs handlers"),
    ("torch.utils._config_module", "loads pickled configs"),
    (
        "torch.utils.cpp_extension",
        "compiles and loads native code",
    ),
    ("torch.jit.unsupported_tensor_ops", "runs Python code"),
    ("torch.package", "imports and runs packaged code"),
    (
        "torch.distributed",
        "opens network connections and runs code",
    ),
    ("torch.testing", "runs Python code"),
    ("torch._C", "calls native code"),
    ("pandas.io", "reads and writes files"),
    ("pandas.core.computation", "evaluates expressions"),
    ("scipy.io", "reads and writes files"),
    (
        "scipy._lib",
        "calls native code (LowLevelCallable) and runs tests",
    ),
    ("scipy.weave", "compiles and runs native code"),
    ("sklearn.utils._testing", "writes files"),
    ("sklearn.datasets", "downloads and writes files"),
    ("sklearn.externals", "vendored code, not model data"),
    ("xgboost.tracker", "starts network services"),
    ("xgboost.dask", "opens network connections"),
    ("xgboost.spark", "starts jobs"),
    ("xgboost.testing", "runs code"),
    ("lightgbm.dask", "opens network connections"),
];

fn is_lookup(module: &str, name: &str) -> bool {
    matches!(module, "numpy.core" | "numpy._core") && name == "_ufunc_reconstruct"
}

const BUILTINS: &[&str] = &[
    "set",
    "frozenset",
    "bytearray",
    "bytes",
    "complex",
    "slice",
    "range",
    "xrange",
    "list",
    "dict",
    "tuple",
    "int",
    "long",
    "float",
    "bool",
    "str",
    "unicode",
    "object",
    "Ellipsis",
    "NotImplemented",
];

/// NumPy's scalar types and dtypes, as classes (`dtype=np.float32` in an estimator's parameters).
const NUMPY_TYPES: &[&str] = &[
    "dtype",
    "ndarray",
    "bool_",
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "intc",
    "uintc",
    "int_",
    "uint",
    "intp",
    "uintp",
    "long",
    "ulong",
    "longlong",
    "ulonglong",
    "short",
    "ushort",
    "byte",
    "ubyte",
    "float16",
    "float32",
    "float64",
    "float128",
    "half",
    "single",
    "double",
    "longdouble",
    "float_",
    "complex64",
    "complex128",
    "complex256",
    "csingle",
    "cdouble",
    "clongdouble",
    "complex_",
    "object_",
    "str_",
    "bytes_",
    "unicode_",
    "string_",
    "void",
    "datetime64",
    "timedelta64",
    "matrix",
    "recarray",
    "record",
];

/// NumPy's element-wise math (ufuncs): `FunctionTransformer(func=np.log1p)` pickles them by name.
const NUMPY_UFUNCS: &[&str] = &[
    "absolute",
    "abs",
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "floor_divide",
    "negative",
    "positive",
    "power",
    "float_power",
    "remainder",
    "mod",
    "fmod",
    "sign",
    "exp",
    "exp2",
    "expm1",
    "log",
    "log2",
    "log10",
    "log1p",
    "logaddexp",
    "logaddexp2",
    "sqrt",
    "cbrt",
    "square",
    "reciprocal",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "arctan2",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "deg2rad",
    "rad2deg",
    "degrees",
    "radians",
    "hypot",
    "maximum",
    "minimum",
    "fmax",
    "fmin",
    "floor",
    "ceil",
    "trunc",
    "rint",
    "round",
    "around",
    "clip",
    "isnan",
    "isinf",
    "isfinite",
    "logical_and",
    "logical_or",
    "logical_not",
    "logical_xor",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "equal",
    "not_equal",
    "sum",
    "mean",
    "median",
    "std",
    "var",
    "min",
    "max",
    "amin",
    "amax",
    "nanmean",
    "nanmedian",
    "nansum",
    "identity",
    "asarray",
    "array",
    "zeros",
    "ones",
    "empty",
    "full",
    "arange",
    "linspace",
    "reshape",
    "concatenate",
    "stack",
    "hstack",
    "vstack",
];

fn safe(module: &str, name: &str) -> bool {
    let plain = !name.contains('.');
    match module {
        "builtins" | "__builtin__" => return BUILTINS.contains(&name),
        "copyreg" | "copy_reg" => {
            return matches!(name, "_reconstructor" | "__newobj__" | "__newobj_ex__")
        }
        "_codecs" => return name == "encode",
        "collections" => {
            return matches!(name, "OrderedDict" | "defaultdict" | "deque" | "Counter")
        }
        "datetime" => {
            return matches!(
                name,
                "datetime" | "date" | "time" | "timedelta" | "timezone"
            )
        }
        "decimal" => return name == "Decimal",
        "fractions" => return name == "Fraction",
        "uuid" => return name == "UUID",
        "numpy" => return NUMPY_TYPES.contains(&name) || NUMPY_UFUNCS.contains(&name),
        "numpy.core.multiarray" | "numpy._core.multiarray" => {
            return matches!(name, "_reconstruct" | "scalar")
        }
        "numpy.core.numeric" | "numpy._core.numeric" => return name == "_frombuffer",
        "numpy.ma.core" => return matches!(name, "_mareconstruct" | "MaskedArray"),
        "numpy.random._pickle" => {
            return matches!(
                name,
                "__randomstate_ctor" | "__bit_generator_ctor" | "__generator_ctor"
            )
        }
        "joblib.numpy_pickle" | "sklearn.externals.joblib.numpy_pickle" => {
            return name == "NumpyArrayWrapper"
        }
        "torch" => {
            return plain
                && (name.ends_with("Storage")
                    || TORCH_TYPES.contains(&name)
                    || name.starts_with("float")
                    || name.starts_with("int")
                    || name.starts_with("uint")
                    || name.starts_with("complex")
                    || name.starts_with("quint")
                    || name.starts_with("qint"))
        }
        "torch._utils" => return plain && name.starts_with("_rebuild_"),
        "torch._tensor" => return name == "_rebuild_from_type_v2",
        "torch.storage" => return matches!(name, "UntypedStorage" | "TypedStorage"),
        "torch.nn.parameter" => return matches!(name, "Parameter" | "Buffer"),
        "torch.serialization" => return name == "_get_layout",
        // TorchScript archives: list builders that torch.jit.load's own (C++) unpickler calls.
        "torch.jit._pickle" => {
            return plain && (name.starts_with("build_") || name == "restore_type_tag")
        }
        _ => {}
    }
    if !plain {
        return false;
    }
    let first_upper = name.starts_with(|c: char| c.is_ascii_uppercase());
    let cython = name.starts_with("__pyx_unpickle_");
    match top(module) {
        "numpy" => {
            (module.starts_with("numpy.random.") && (first_upper || cython))
                || module == "numpy.dtypes" && name.ends_with("DType")
        }
        "torch" => module.starts_with("torch.nn.modules.") && first_upper,
        // TorchScript's compiled classes: Python's unpickler cannot import them at all.
        "__torch__" => true,
        "sklearn" => first_upper || cython || name == "newObj",
        // The boosters and their scikit-learn wrappers; the rest of these packages (trackers, dask, spark) is
        // not model data.
        "xgboost" | "lightgbm" | "catboost" => {
            MODEL_LIBRARY_MODULES.contains(&module) && (first_upper || cython)
        }
        // Not the top-level package: `scipy.LowLevelCallable` is a class that calls native code.
        "scipy" => {
            module != "scipy"
                && (first_upper
                    || cython
                    || (module.starts_with("scipy.sparse")
                        && (name.ends_with("_matrix") || name.ends_with("_array"))))
        }
        // Data structures only (`pandas.core`, `pandas._libs`): the top-level package and `pandas.io` hold
        // classes that create files (`HDFStore`, `ExcelWriter`).
        "pandas" => {
            (within(module, "pandas.core") || within(module, "pandas._libs"))
                && (first_upper
                    || cython
                    || name.starts_with("_unpickle")
                    || name.starts_with("_new_")
                    || name.starts_with("new_block")
                    || name == "__nat_unpickle")
        }
        _ => false,
    }
}

/// Where XGBoost, LightGBM and CatBoost keep their models.
const MODEL_LIBRARY_MODULES: &[&str] = &[
    "xgboost.core",
    "xgboost.sklearn",
    "lightgbm.basic",
    "lightgbm.sklearn",
    "catboost.core",
    "catboost._catboost",
];

const TORCH_TYPES: &[&str] = &[
    "Size",
    "device",
    "dtype",
    "Tensor",
    "bool",
    "bfloat16",
    "half",
    "double",
    "cfloat",
    "cdouble",
    "long",
    "short",
    "strided",
    "sparse_coo",
    "sparse_csr",
    "contiguous_format",
    "channels_last",
    "preserve_format",
    "per_tensor_affine",
    "per_channel_affine",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classic_attacks_are_dangerous() {
        for (m, n) in [
            ("os", "system"),
            ("posix", "system"),
            ("nt", "system"),
            ("subprocess", "Popen"),
            ("builtins", "eval"),
            ("__builtin__", "eval"),
            ("builtins", "getattr"),
            ("builtins", "eval.__call__"),
            ("runpy", "_run_code"),
            ("torch.storage", "_load_from_bytes"),
            ("numpy.testing._private.utils", "runstring"),
            ("os.path", "join"),
            // 2024-2025 bypasses of deny-list scanners.
            ("cProfile", "run"),
            ("profile", "Profile.runctx"),
            ("timeit", "timeit"),
            ("pydoc", "pipepager"),
            ("code", "InteractiveInterpreter.runsource"),
            ("pty", "spawn"),
            ("asyncio.unix_events", "_UnixSubprocessTransport._start"),
            ("operator", "call"),
            ("functools", "partial"),
            ("pip", "main"),
            ("uuid", "_get_command_stdout"),
            ("torch.utils.collect_env", "run"),
            ("numpy.f2py.crackfortran", "getlincoef"),
            // Allowed libraries' classes that create files or evaluate text.
            ("numpy", "memmap"),
            ("pandas", "HDFStore"),
            ("pandas.io.pytables", "HDFStore"),
            ("pandas.core.computation.expr", "Expr"),
            ("scipy", "LowLevelCallable"),
            ("scipy.io._fortran", "FortranFile"),
            ("xgboost.tracker", "RabitTracker"),
        ] {
            assert!(
                matches!(classify(m, n, &[]), Class::Dangerous(_)),
                "{m}.{n}"
            );
        }
    }

    #[test]
    fn model_files_need_these() {
        for (m, n) in [
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "dtype"),
            ("numpy", "float64"),
            ("numpy", "log1p"),
            ("copyreg", "_reconstructor"),
            ("__builtin__", "set"),
            ("_codecs", "encode"),
            ("collections", "OrderedDict"),
            ("joblib.numpy_pickle", "NumpyArrayWrapper"),
            ("sklearn.pipeline", "Pipeline"),
            ("sklearn.tree._tree", "Tree"),
            ("sklearn.neighbors._kd_tree", "newObj"),
            ("torch._utils", "_rebuild_tensor_v2"),
            ("torch", "FloatStorage"),
            ("torch", "float32"),
            ("pandas._libs.internals", "_unpickle_block"),
            ("numpy.random._pcg64", "PCG64"),
            ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
            ("scipy.sparse._csr", "csr_matrix"),
            ("torch.jit._pickle", "build_intlist"),
            ("__torch__.model", "Net"),
        ] {
            assert_eq!(classify(m, n, &[]), Class::Safe, "{m}.{n}");
        }
    }

    #[test]
    fn unknown_is_not_allowed_until_the_user_allows_it() {
        assert_eq!(classify("mypkg.models", "Net", &[]), Class::Unknown);
        assert_eq!(classify("decimal", "getcontext", &[]), Class::Unknown);
        assert_eq!(
            classify("sklearn.pipeline", "Pipeline.__init__", &[]),
            Class::Unknown
        );
        assert_eq!(
            classify("sklearn.utils", "some_function", &[]),
            Class::Unknown
        );
        let allow = vec!["mypkg.models.Net".to_string(), "other.*".to_string()];
        assert_eq!(classify("mypkg.models", "Net", &allow), Class::Safe);
        assert_eq!(classify("mypkg.models", "Netx", &allow), Class::Unknown);
        assert_eq!(classify("mypkg", "models.Net", &allow), Class::Unknown);
        assert_eq!(classify("other.sub", "f", &allow), Class::Safe);
        assert_eq!(classify("otherwise", "f", &allow), Class::Unknown);
        // A user's allowance does not lift the deny-list.
        let allow = vec!["os.*".to_string()];
        assert!(matches!(
            classify("os", "system", &allow),
            Class::Dangerous(_)
        ));
    }

    #[test]
    fn model_libraries_are_allowed_where_they_keep_models() {
        for (m, n) in [
            ("pandas.core.frame", "DataFrame"),
            ("xgboost.sklearn", "XGBClassifier"),
            ("xgboost.core", "Booster"),
            ("lightgbm.basic", "Booster"),
            ("catboost.core", "CatBoostClassifier"),
        ] {
            assert_eq!(classify(m, n, &[]), Class::Safe, "{m}.{n}");
        }
        for (m, n) in [
            ("pandas", "DataFrame"),
            ("xgboost.collective", "CommunicatorContext"),
            ("catboost.widget", "MetricVisualizer"),
        ] {
            assert_eq!(classify(m, n, &[]), Class::Unknown, "{m}.{n}");
        }
    }

    #[test]
    fn ufunc_reconstruct_is_a_lookup() {
        assert_eq!(
            classify("numpy._core", "_ufunc_reconstruct", &[]),
            Class::Lookup
        );
    }
}
