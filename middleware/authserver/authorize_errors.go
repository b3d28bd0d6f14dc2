package authserver

import (
	"html/template"
	"net/http"
)

// errorPageTemplate is the default ErrorPage.
var errorPageTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Authorization error</title></head>
<body>
<h1>The app's authorization request cannot be answered</h1>
<p>Error <code id="error">{{.Code}}</code>: <span id="error_description">{{.Description}}</span></p>
</body>
</html>
`))

// writeErrorPage is the default AuthorizationConfig.ErrorPage: a minimal
// HTML page with the error code and description.
func writeErrorPage(w http.ResponseWriter, _ *http.Request, e *Error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(e.Status)
	_ = errorPageTemplate.Execute(w, e)
}
