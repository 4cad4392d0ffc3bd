package localrun

import "github.com/payhook/payhook/internal/localstate"

// The state file's types are internal/localstate's, its one definition (the probes read it
// from there, without depending on this package); local mode names them here.
type (
	// State is what a running local stack tells tools: localstate.State.
	State = localstate.State
	// StateProvider is a webhook provider with its local secret: localstate.Provider.
	StateProvider = localstate.Provider
	// StateEmulators are the emulator endpoints: localstate.Emulators.
	StateEmulators = localstate.Emulators
	// StateAPI is a served REST API: localstate.API.
	StateAPI = localstate.API
	// StateFunction is a running function: localstate.Function.
	StateFunction = localstate.Function
)

// ReadState reads a state file; a missing file is (nil, nil) (localstate.Read).
func ReadState(path string) (*State, error) { return localstate.Read(path) }

// WriteState writes the state file atomically, readable by its owner only
// (localstate.Write).
func WriteState(path string, s *State) error { return localstate.Write(path, s) }

// previousAPIKeys returns the API key values of a previous state (nil on a first run) by the
// key's logical id, for a new start to keep them.
func previousAPIKeys(s *State) map[string]string {
	keys := map[string]string{}
	if s == nil {
		return keys
	}
	for _, a := range s.APIs {
		for id, v := range a.Keys {
			keys[id] = v
		}
	}
	return keys
}
