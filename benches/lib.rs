//! Nothing here: the benchmarks are the `[[bench]]` targets of this
//! package (see `Cargo.toml`), their shared workloads in `common/`.
