package restore

import _ "github.com/shipshape-dev/shipshape/internal/golden"
