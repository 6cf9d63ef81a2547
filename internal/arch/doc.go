// Package arch holds no code: its test keeps the package layering honest
// (see ARCHITECTURE.md). The domain and the drivers know no UI; the UI,
// the drivers, the engine and the record know no simulator; only the demo
// command may start simulators.
package arch
