package drill

import _ "github.com/shipshape-dev/shipshape/internal/golden"
