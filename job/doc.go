// Package job owns one sync run's lifecycle, shared by the command line
// (ferry push/pull/sync) and the agent: a Spec holds every option as a
// front end collected it, Resolve validates all of it before anything is
// touched, and Job.Run opens the state cache and the connection pool (or
// takes the agent's), loads and saves the server profile, records the run
// in the run history and returns the result.
//
// Errors about the user's input are *sync.UsageError values naming a
// neutral field (remote, local, exclude, parallel, ...); each front end
// renders the field in its own terms (--exclude, jobs[2].exclude).
package job
