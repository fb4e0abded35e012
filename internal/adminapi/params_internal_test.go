package adminapi

import "testing"

func TestLowerCamelKeys(t *testing.T) {
	for in, want := range map[string]string{
		`{"AccountId":"1"}`: `{"accountId":"1"}`,
		`{"Tags":[{"Key":"K","Value":"V"}],"Name":"Ab"}`:     `{"tags":[{"key":"K","value":"V"}],"name":"Ab"}`,
		`{"A":"x\"B\":y","C":["D",{"E":null}],"F":{"G":{}}}`: `{"a":"x\"B\":y","c":["D",{"e":null}],"f":{"g":{}}}`,
		`{"Path":"\\","Next":1}`:                             `{"path":"\\","next":1}`,
		`["A",{"B":1}]`:                                      `["A",{"b":1}]`,
		`{}`:                                                 `{}`,
	} {
		if got := string(lowerCamelKeys([]byte(in))); got != want {
			t.Errorf("lowerCamelKeys(%s) = %s, want %s", in, got, want)
		}
	}
}
