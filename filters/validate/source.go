package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
)

// source is where a reloading Validator reads its model.
type source interface {
	// load returns the current model; errUnchanged when it is known not to
	// have changed, a transientError when it cannot be read now.
	load(ctx context.Context) (*Model, error)
	describe() string
	close() error
}

// transientError marks a source that cannot be read now (store down, file
// missing): the validator keeps its model and tries again.
type transientError struct{ err error }

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }

func isTransient(err error) bool {
	var t transientError
	return errors.As(err, &t)
}

type errUnchanged struct{}

func (errUnchanged) Error() string { return "model unchanged" }

// fileSource reads a model file; it parses it again only when its bytes
// changed.
type fileSource struct {
	path string
	last []byte
}

func (s *fileSource) describe() string { return fmt.Sprintf("model_file %s", s.path) }
func (s *fileSource) close() error     { return nil }

func (s *fileSource) load(context.Context) (*Model, error) {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, transientError{err}
	}
	if s.last != nil && bytes.Equal(data, s.last) {
		return nil, errUnchanged{}
	}
	s.last = data
	m, err := ParseModel(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	return m, nil
}

// storeSource reads the model store. Every failure to read it is
// transient: the store's content is checked by compile.
type storeSource struct {
	dsn    string
	mu     sync.Mutex
	store  *Store
	inited bool
}

func (s *storeSource) describe() string { return "the model store (model_dsn)" }

func (s *storeSource) load(ctx context.Context) (*Model, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		st, err := OpenStore(s.dsn)
		if err != nil {
			return nil, transientError{err}
		}
		s.store = st
	}
	if !s.inited {
		// Create the schema when missing; a user without the right to
		// create it can still read an existing store.
		if err := s.store.Init(ctx); err == nil {
			s.inited = true
		}
	}
	m, err := s.store.Load(ctx)
	if err != nil {
		return nil, transientError{err}
	}
	return m, nil
}

func (s *storeSource) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store != nil {
		return s.store.Close()
	}
	return nil
}
