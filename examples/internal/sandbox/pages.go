package sandbox

import (
	"html/template"
	"net/http"
)

// pages are the sandbox's HTML pages, each the "layout" with its own
// "content".
var pages = map[string]*template.Template{}

const layout = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{template "title" .}} · smartauth sandbox</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 44rem; padding: 0 1rem; color: #1b1b1b; }
header { border-bottom: 1px solid #ddd; margin-bottom: 1rem; color: #555; }
fieldset { border: 1px solid #ddd; margin: 1rem 0; padding: .5rem 1rem; }
label { display: block; margin: .35rem 0; }
.scope code { background: #f3f3f3; padding: 0 .25rem; }
.hint { color: #555; font-size: .9em; }
.error { color: #9b1c1c; }
button { padding: .4rem .9rem; margin-right: .5rem; }
</style>
</head>
<body>
<header>smartauth sandbox — a demo EHR: every user signs in without a password</header>
<main>{{template "content" .}}</main>
</body>
</html>`

func init() {
	for name, content := range map[string]string{
		"login": `{{define "title"}}Sign in{{end}}{{define "content"}}
<h1>Sign in</h1>
<p><strong>{{.ClientID}}</strong> asks to use your health record. Who are you?</p>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">{{.Hidden}}
<label>User <select name="user" id="user">{{range .Users}}<option value="{{.Subject}}">{{.Name}} — {{.FHIRUser}}</option>{{end}}</select></label>
<button type="submit" name="action" value="sign-in" id="sign-in">Sign in</button>
<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>
</form>{{end}}`,

		"picker": `{{define "title"}}Choose a patient{{end}}{{define "content"}}
<h1>Choose a {{if .NeedEncounter}}patient encounter{{else}}patient{{end}}</h1>
<p><strong>{{.ClientID}}</strong> works with one patient's record{{if .NeedEncounter}}, in one encounter{{end}}.</p>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">{{.Hidden}}
<fieldset>{{range $i, $c := .Choices}}
<label><input type="radio" name="choice" value="{{$c.Value}}" id="choice-{{$c.Value}}"{{if eq $i 0}} checked{{end}}> {{$c.Label}}</label>{{end}}
</fieldset>
<button type="submit" name="action" value="pick" id="pick">Continue</button>
<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>
</form>{{end}}`,

		"consent": `{{define "title"}}Allow access?{{end}}{{define "content"}}
<h1>Allow <span id="client">{{.ClientID}}</span> to access your data?</h1>
<p>Signed in as <strong>{{.User}}</strong>.{{if .Patient}} Patient: <strong id="consent-patient">{{.Patient}}</strong>.{{end}}</p>
<form method="post" action="{{.Action}}">{{.Hidden}}
<fieldset><legend>The app asks for</legend>{{range .Scopes}}
<label class="scope"><input type="checkbox" name="scope" value="{{.Token}}" checked> <code>{{.Token}}</code> <span class="hint">{{.Meaning}}</span></label>{{end}}
</fieldset>
<p class="hint">Uncheck what you do not want to share: the app is told which scopes it was granted.</p>
<button type="submit" name="action" value="allow" id="allow">Allow</button>
<button type="submit" name="action" value="deny" id="deny">Deny</button>
</form>{{end}}`,

		"launcher": `{{define "title"}}Launch an app{{end}}{{define "content"}}
<h1>Launch an app</h1>
<p>As the SMART launcher does: choose the app, how it is launched, the patient and the provider.</p>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<fieldset><legend>Launch type</legend>
<label><input type="radio" name="launch_type" value="ehr" id="type-ehr" checked> EHR launch — the app opens inside the EHR, which gives it the patient (and encounter) below</label>
<label><input type="radio" name="launch_type" value="standalone" id="type-standalone"> Standalone launch — the app starts on its own; the user signs in and picks the patient</label>
</fieldset>
<fieldset><legend>App</legend>
<label>Launch URL <input name="app_url" id="app_url" size="48" value="{{.AppURL}}"></label>
<label>client_id <input name="client_id" id="client_id" value="{{.ClientID}}"> <span class="hint">(EHR launch: only this client may use the launch)</span></label>
</fieldset>
<fieldset><legend>EHR context</legend>
<label>Provider (signed in to the EHR) <select name="provider" id="provider">{{range .Providers}}<option value="{{.ID}}">{{.Name}}</option>{{end}}</select></label>
<label>Patient <select name="patient" id="patient">{{range .Patients}}<option value="{{.ID}}">{{.Name}}</option>{{end}}</select></label>
<label>Encounter <select name="encounter" id="encounter"><option value="">none</option>{{range .Encounters}}<option value="{{.ID}}">{{.Name}}</option>{{end}}</select></label>
<label><input type="checkbox" name="need_patient_banner" value="true" checked> need_patient_banner</label>
<label>smart_style_url <input name="smart_style_url" size="48"></label>
</fieldset>
<button type="submit" id="launch-app">Launch</button>
</form>{{end}}`,
	} {
		pages[name] = template.Must(template.Must(template.New(name).Parse(layout)).Parse(content))
	}
}

// render writes a page with status 200.
func render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pages[name].Execute(w, data)
}
