// Package sandbox makes the smartauth demo a SMART sandbox, as the SMART
// reference launcher is one: a launch page that starts an app with an EHR
// launch (patient, encounter and provider chosen on the page) or a
// standalone launch, and the simple pages the authorization endpoint asks
// for — sign-in, patient picker, consent — as the default implementations
// of authserver.Login, authserver.PatientPicker and authserver.Consent.
//
// It is a demo: anyone may sign in as any user of the data set, without a
// password. Everything else is as a real host's would be: the sign-in is
// a session cookie signed with a key of the process (HttpOnly,
// SameSite=Lax), the launch page refuses cross-site posts, and the
// authorization endpoint's own protections apply to the steps' pages.
//
// Usage sketch:
//
//	sb, _ := sandbox.New(sandbox.Config{Directory: dir, FHIRBaseURL: fhirBase, Launches: authz,
//		LauncherURL: base + "/launcher", AppLaunchURL: "http://127.0.0.1:8081/", AppClientID: "sample-app"})
//	authz, _ := authserver.NewAuthorizationHandler(authserver.AuthorizationConfig{
//		Login: sb, Patients: sb, Consent: sb, ...})
//	mux.Handle("/launcher", sb.Launcher())
package sandbox
