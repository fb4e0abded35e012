package config

import (
	"io"
	"testing"
	"time"
)

func TestRefreshGrace(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    time.Duration
		wantErr bool
	}{
		{"default", nil, nil, 30 * time.Second, false},
		{"flag", []string{"-refresh-grace", "10s"}, nil, 10 * time.Second, false},
		{"off", []string{"-refresh-grace", "0"}, nil, 0, false},
		{"env", nil, map[string]string{"GATEHOUSE_REFRESH_GRACE": "1m"}, time.Minute, false},
		{"flag over env", []string{"-refresh-grace", "5s"}, map[string]string{"GATEHOUSE_REFRESH_GRACE": "1m"}, 5 * time.Second, false},
		{"too long", []string{"-refresh-grace", "6m"}, nil, 0, true},
		{"negative", []string{"-refresh-grace", "-1s"}, nil, 0, true},
		{"not a duration", []string{"-refresh-grace", "soon"}, nil, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Load(%v) = %s, want an error", tt.args, c.RefreshGrace)
				}
				return
			}
			if err != nil || c.RefreshGrace != tt.want {
				t.Fatalf("Load(%v) = %s, %v; want %s", tt.args, c.RefreshGrace, err, tt.want)
			}
		})
	}
}
