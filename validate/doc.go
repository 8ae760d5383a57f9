// Package validate checks an experiment's result honestly: it re-runs the
// untouched prototype (the baseline) and the best solution once per seed,
// each in a fresh layout made by the task (task.Setup), through the task's
// run command and evaluator in the sandbox, and compares the two arms.
//
// A Verdict is a success only when three things hold: the improvement of
// the best arm over the baseline, oriented by the metric's goal, meets the
// Criterion; Welch's t-test says it is significant (p < Alpha); and every
// integrity check passed:
//
//   - the task and its evaluator are unchanged since the run started;
//   - the protected files of the best workspace are those of the start;
//   - the held-out labels were never visible to experiments (the
//     experiment's sandbox spec neither mounts nor leaves visible the
//     private directory, the sandbox is bubblewrap, and no file of the
//     agent's workspace copies or links to a held-out file);
//   - the best arm's metric comes from the evaluator at every seed;
//   - the metric the agent's run reported reproduces at its seed;
//   - every re-run succeeded.
//
// Welch, MeanCI and HedgesG are the statistics, on gonum's Student t
// distribution. HashProtected records the protected files of a workspace
// at the start of a run, for Config.ProtectedHashes.
package validate
