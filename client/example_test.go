package client_test

import (
	"fmt"

	"github.com/xferterm/xferterm/client"
)

// ParseStrict refuses what the real client refuses; scanner.Parse would accept both.
func ExampleParseStrict() {
	c, err := client.ParseStrict([]byte("ac=status;id=14968085;st=T0s"))
	fmt.Println(c.Action, c.Status, err)

	_, err = client.ParseStrict([]byte("ac=status;id=14968085;st=T0s="))
	fmt.Println(err)

	_, err = client.ParseStrict([]byte("ac=status;id=14968085;st=T0s;xx=1"))
	fmt.Println(err)
	// Output:
	// status OK <nil>
	// client: invalid reply from the terminal: key "st": illegal base64 data (padding)
	// client: invalid reply from the terminal: key "xx": the field name is not known
}
