package servertest

import (
	"net/http"
	"sync"
)

// Statuses makes n requests at once, each with send, and returns their
// status codes in no particular order (0 for a request that got no
// answer). Bodies are closed.
func Statuses(n int, send func() (*http.Response, error)) []int {
	var wg sync.WaitGroup
	out := make([]int, n)
	for i := range n {
		wg.Go(func() {
			resp, err := send()
			if err != nil {
				return
			}
			resp.Body.Close()
			out[i] = resp.StatusCode
		})
	}
	wg.Wait()
	return out
}
