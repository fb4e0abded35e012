// Package web holds the access portal's pages and assets, embedded in the
// binary: html/template pages under templates/ and static files under
// static/. Every page is rendered from a typed struct of this package;
// the portal package decides which one and sets the response headers.
//
// The pages work without JavaScript (DESIGN §8): sign-in, device approval
// and PKCE consent are plain forms.
package web
