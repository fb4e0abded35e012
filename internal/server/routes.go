package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
)

// routes mounts every API and page on one origin (spec/aws-wire.md §1.1):
// sso-oidc and the portal API at their REST paths, /authorize and the pages
// (portal), and POST / dispatched on X-Amz-Target (awsJson services) or on
// the form's signing service (STS, IAM). The discovery document
// (clientconfig.DiscoveryPath) tells `gatehouse aws-config` on a laptop the
// start URL and region; both are public (the banner prints them).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if _, err := s.Store.ChangeSeq(r.Context()); err != nil {
			// A prober that went away is not an error (awsproto.LogFailure).
			awsproto.LogFailure(r.Context(), s.Log, http.StatusServiceUnavailable, err, "readiness check")
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET "+clientconfig.DiscoveryPath, func(w http.ResponseWriter, r *http.Request) {
		base := s.BaseURL()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(clientconfig.Discovery{
			StartURL: s.Instance.StartURL, Region: s.Instance.Region, EndpointURL: base, PortalURL: base + "/start",
		})
	})
	s.OIDC.Register(mux)
	s.Portal.Register(mux)
	s.Console.Register(mux)
	s.mountSources(mux)
	s.SCIM.Register(mux)
	mux.HandleFunc("POST /{$}", s.serveRoot)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Action") != "" || r.URL.Query().Get("X-Amz-Credential") != "" {
			s.serveRoot(w, r)
			return
		}
		http.Redirect(w, r, "/start", http.StatusFound)
	})
	return s.middleware(mux)
}

// serveRoot dispatches the requests every AWS query and JSON service sends
// to "/".
func (s *Server) serveRoot(w http.ResponseWriter, r *http.Request) {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		// CloudTrail's prefix has dots of its own: the operation is
		// after the last one.
		if i := strings.LastIndexByte(target, '.'); i > 0 && s.AdminAPIs[target[:i]] != nil {
			h := s.AdminAPIs[target[:i]]
			h.ServeHTTP(w, r)
			return
		}
		awsproto.WriteJSONError(w, awsproto.UnknownOperation(target))
		return
	}
	switch sigv4.SigningService(r) {
	case "iam":
		if s.IAM != nil {
			s.IAM.ServeHTTP(w, r)
			return
		}
		awsproto.WriteQueryError(w, awsproto.IAMNamespace, awsproto.QueryInvalidAction(r.FormValue("Action"), "2010-05-08"))
	default:
		s.STS.ServeHTTP(w, r)
	}
}
