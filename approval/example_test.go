package approval_test

import (
	"fmt"

	"github.com/xferterm/xferterm/approval"
)

// The Guard marks sensitive upload destinations and download sources.
func ExampleGuard() {
	paths := approval.Paths{Home: "/home/u", ConfigDir: "/home/u/.config/xferterm", StateDir: "/home/u/.local/state/xferterm", TempDir: "/tmp"}
	g, err := approval.NewGuard(approval.Defaults(paths), paths.ConfigDir, paths.StateDir)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", g.Write("/home/u/notes.txt", -1))
	fmt.Printf("%+v\n", g.Write("/home/u/.bashrc", 3277))
	fmt.Printf("%+v\n", g.Write("/etc/cron.d/job", -1))
	fmt.Printf("%+v\n", g.Read("/home/u/backup/id_ed25519", false))
	fmt.Printf("%+v\n", g.Read("/home/u", true))
	// Output:
	// {Sensitive:false Reason: Overwrite:false}
	// {Sensitive:true Reason:protected location ~/.bashrc Overwrite:true}
	// {Sensitive:true Reason:outside the allowed directories Overwrite:false}
	// {Sensitive:true Reason:private key or credentials Overwrite:false}
	// {Sensitive:true Reason:contains protected location ~/.ssh/ Overwrite:false}
}
