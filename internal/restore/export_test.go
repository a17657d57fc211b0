package restore

// SetTrustLive turns the "unchanged from the live copy" shortcut on or off
// and returns a function that restores the previous setting.
func SetTrustLive(on bool) (undo func()) {
	prev := trustLive
	trustLive = on
	return func() { trustLive = prev }
}
