package simweb_test

import (
	"context"
	"fmt"
	"io"

	"github.com/oafetch/oafetch/internal/simweb"
)

// Serve the simulated web on loopback and fetch one work's PDF through
// its real URL, as oafetch does with --connect-to and --ca-file.
func Example() {
	s, err := simweb.New(simweb.Config{Works: 40, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if err := s.Start(context.Background(), "127.0.0.1:0", "127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	// oafetch pull --connect-to <ConnectTo()[0]> --connect-to <ConnectTo()[1]> --ca-file ca.pem <Input>…
	c := s.Client()
	defer c.CloseIdleConnections()
	var wk simweb.Work
	for _, w := range s.World().Works {
		if w.Route == simweb.RouteArXiv {
			wk = w
			break
		}
	}
	res, err := c.Get("https://arxiv.org/pdf/" + wk.IDs.ArXiv)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	head := make([]byte, 5)
	_, _ = io.ReadFull(res.Body, head)
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"), string(head), wk.Want, wk.WantSource)
	// Output: 200 application/pdf %PDF- ok-pdf arxiv
}
