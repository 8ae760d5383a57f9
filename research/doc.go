// Package research sequences a research run: the idea phase, the
// experiment, validation and the report, each recorded in the run store so
// that a killed run is resumed where it stopped. A Run is made with New
// from what the caller opened (the store's run, the model, the sandbox);
// it runs whole (Research, Experiment) or phase by phase (Ideas,
// Experiment, Validation, Report), and a run that stops early still gets a
// report (StoppedReport). The command line, a web server or an MCP server
// are thin clients of it.
package research
