package benchmeter

// Accept -update like every test package, so that go test ./... -update runs.
import _ "github.com/shipshape-dev/shipshape/internal/golden"
