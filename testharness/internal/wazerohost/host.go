package wazerohost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/latchauth/latch/wasm/guest/wire"
)

// guestHost runs the guest module: one wazero runtime, the compiled guest,
// and a pool of instances, each serving one request at a time.
type guestHost struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	stderr   io.Writer
	dispatch func(ctx context.Context, frame []byte) []byte
	config   func() (frame []byte, gen uint64)
	// beforeCall, when set (tests only), runs before each guest call is
	// answered.
	beforeCall func(ctx context.Context, mod api.Module)

	slots   chan struct{} // one token per instance that may exist or still runs
	closing chan struct{} // closed when close begins
	mu      sync.Mutex
	idle    []*instance
}

type instance struct {
	mod                       api.Module
	buffer, configure, handle api.Function
	gen                       uint64 // config generation it was configured with
}

// hostOptions is what newGuestHost needs from the server.
type hostOptions struct {
	wasm      []byte
	cache     wazero.CompilationCache
	instances int
	walltime  func() (sec int64, nsec int32)
	rand      io.Reader
	stderr    io.Writer
	dispatch  func(ctx context.Context, frame []byte) []byte
	config    func() (frame []byte, gen uint64)
	// beforeCall, when set (tests only), runs before each guest call is
	// answered.
	beforeCall func(ctx context.Context, mod api.Module)
}

func newGuestHost(ctx context.Context, o hostOptions) (*guestHost, error) {
	// Guest code stops and its module closes when the call's context is
	// done, so a request deadline also ends a guest that loops.
	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(true)
	if o.cache != nil {
		rc = rc.WithCompilationCache(o.cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	h := &guestHost{
		rt: rt, dispatch: o.dispatch, config: o.config, beforeCall: o.beforeCall,
		slots: make(chan struct{}, o.instances), closing: make(chan struct{}),
	}
	if err := h.init(ctx, o); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	return h, nil
}

func (h *guestHost) init(ctx context.Context, o hostOptions) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, h.rt); err != nil {
		return fmt.Errorf("testharness: wasi: %w", err)
	}
	_, err := h.rt.NewHostModuleBuilder("latch").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(h.call),
		[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32},
		[]api.ValueType{api.ValueTypeI32}).Export("call").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(h.result),
		[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32},
		[]api.ValueType{api.ValueTypeI32}).Export("result").
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("testharness: host module: %w", err)
	}
	if h.compiled, err = h.rt.CompileModule(ctx, o.wasm); err != nil {
		return fmt.Errorf("testharness: compile guest: %w", err)
	}
	h.stderr = o.stderr
	if h.stderr == nil {
		h.stderr = io.Discard
	}
	h.modCfg = wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize").
		WithWalltime(o.walltime, sys.ClockResolution(1)).
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(o.rand)
	return nil
}

// pending is the answer a guest has yet to fetch with "result"; one per
// call into the guest, carried by the call's context.
type pending struct{ answer []byte }

type pendingKey struct{}

// call is the guest's "latch" "call" import (see package wire).
func (h *guestHost) call(ctx context.Context, mod api.Module, stack []uint64) {
	inPtr, inLen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	outPtr, outCap := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	p, _ := ctx.Value(pendingKey{}).(*pending)
	if p == nil || inLen > wire.MaxFrame {
		panic("testharness: call outside a request or over MaxFrame")
	}
	p.answer = nil
	in, ok := mod.Memory().Read(inPtr, inLen)
	if !ok {
		panic("testharness: call: input out of range")
	}
	if h.beforeCall != nil {
		h.beforeCall(ctx, mod)
	}
	answer := h.dispatch(ctx, in)
	if uint32(len(answer)) <= outCap {
		if !mod.Memory().Write(outPtr, answer) {
			panic("testharness: call: output out of range")
		}
	} else {
		p.answer = answer
	}
	stack[0] = api.EncodeU32(uint32(len(answer)))
}

// result is the guest's "latch" "result" import: it copies the pending
// answer of the last call into the guest.
func (h *guestHost) result(ctx context.Context, mod api.Module, stack []uint64) {
	outPtr, outCap := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	p, _ := ctx.Value(pendingKey{}).(*pending)
	if p == nil || p.answer == nil || uint32(len(p.answer)) > outCap {
		stack[0] = 0
		return
	}
	if !mod.Memory().Write(outPtr, p.answer) {
		panic("testharness: result: output out of range")
	}
	stack[0] = api.EncodeU32(uint32(len(p.answer)))
	p.answer = nil
}

func (h *guestHost) newInstance(ctx context.Context) (*instance, error) {
	// Each instance clips its own standard error, so that no engine log
	// line (which may quote a request path) grows unbounded.
	cfg := h.modCfg.WithStderr(&clipWriter{w: h.stderr, max: maxLogLine})
	mod, err := h.rt.InstantiateModule(ctx, h.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("testharness: instantiate guest: %w", err)
	}
	inst := &instance{
		mod:       mod,
		buffer:    mod.ExportedFunction("buffer"),
		configure: mod.ExportedFunction("configure"),
		handle:    mod.ExportedFunction("handle"),
	}
	if inst.buffer == nil || inst.configure == nil || inst.handle == nil {
		mod.Close(ctx)
		return nil, errors.New("testharness: guest lacks buffer, configure or handle export")
	}
	return inst, nil
}

// get takes an idle instance, or makes one while fewer than the limit
// exist, or waits. The instance is configured with the current config.
// Once close has begun it fails with errClosed.
func (h *guestHost) get(ctx context.Context) (*instance, error) {
	select {
	case h.slots <- struct{}{}:
	case <-h.closing:
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-h.closing:
		// close waits for this slot: give it back.
		<-h.slots
		return nil, errClosed
	default:
	}
	h.mu.Lock()
	var inst *instance
	if n := len(h.idle); n > 0 {
		inst, h.idle = h.idle[n-1], h.idle[:n-1]
	}
	h.mu.Unlock()
	if inst != nil && inst.mod.IsClosed() {
		// wazero closed it as its last call returned at the deadline.
		inst = nil
	}
	var err error
	if inst == nil {
		if inst, err = h.newInstance(ctx); err != nil {
			<-h.slots
			return nil, err
		}
	}
	frame, gen := h.config()
	if inst.gen != gen {
		var answer []byte
		if answer, err = inst.exchange(ctx, inst.configure, frame); err == nil {
			err = wire.ParseOK(answer)
		}
		if err == nil {
			inst.gen = gen
		}
	}
	if err != nil {
		h.discard(ctx, inst)
		return nil, fmt.Errorf("testharness: configure guest: %w", err)
	}
	return inst, nil
}

func (h *guestHost) put(inst *instance) {
	h.mu.Lock()
	h.idle = append(h.idle, inst)
	h.mu.Unlock()
	<-h.slots
}

// discard closes an instance that failed; a fresh one replaces it later.
func (h *guestHost) discard(ctx context.Context, inst *instance) {
	inst.mod.Close(ctx)
	<-h.slots
}

// serve runs one request frame through an instance and returns the
// guest's answer frame. ctx bounds the wait for an instance
// (errNoInstance) and the guest's work (errGuestTimeout). A guest that
// overruns is answered for at once; wazero closes its module as ctx ends
// (WithCloseOnContextDone) and stops its code, and the host discards it
// when its call has actually returned. Until then it holds its slot, so a
// host call that ignores ctx holds a slot rather than letting instances
// pile up, and close waits for it.
func (h *guestHost) serve(ctx context.Context, request []byte) ([]byte, error) {
	inst, err := h.get(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", errNoInstance, err)
		}
		return nil, err
	}
	type result struct {
		answer []byte
		err    error
	}
	done := make(chan result, 1)
	go func() {
		answer, err := inst.exchange(ctx, inst.handle, request)
		done <- result{answer, err}
	}()
	bg := context.WithoutCancel(ctx)
	select {
	case r := <-done:
		if r.err != nil {
			h.discard(bg, inst)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w: %w", errGuestTimeout, r.err)
			}
			return nil, r.err
		}
		if inst.mod.IsClosed() {
			// The deadline hit as the call returned.
			h.discard(bg, inst)
		} else {
			h.put(inst)
		}
		return r.answer, nil
	case <-ctx.Done():
		// Not inst.mod.CloseWithExitCode: from this goroutine it would
		// free the module's WASI state under the running call. wazero's
		// own close at ctx's end leaves that to the call's goroutine.
		go func() {
			<-done
			h.discard(bg, inst)
		}()
		return nil, fmt.Errorf("%w: %w", errGuestTimeout, ctx.Err())
	}
}

// exchange writes frame into the guest's buffer, calls fn with its length,
// and returns a copy of the answer frame.
func (inst *instance) exchange(ctx context.Context, fn api.Function, frame []byte) ([]byte, error) {
	if len(frame) > wire.MaxFrame {
		return nil, fmt.Errorf("%w: %d bytes", wire.ErrTooLarge, len(frame))
	}
	res, err := inst.buffer.Call(ctx, uint64(len(frame)))
	if err != nil {
		return nil, fmt.Errorf("testharness: guest buffer: %w", err)
	}
	ptr := api.DecodeU32(res[0])
	if ptr == 0 || !inst.mod.Memory().Write(ptr, frame) {
		return nil, errors.New("testharness: guest buffer out of range")
	}
	ctx = context.WithValue(ctx, pendingKey{}, &pending{})
	if res, err = fn.Call(ctx, uint64(len(frame))); err != nil {
		return nil, fmt.Errorf("testharness: guest: %w", err)
	}
	packed := res[0]
	answer, ok := inst.mod.Memory().Read(uint32(packed>>32), uint32(packed))
	if !ok || len(answer) == 0 {
		return nil, errors.New("testharness: guest answer out of range")
	}
	return append([]byte(nil), answer...), nil
}

// close refuses new work (errClosed), waits until no instance is in use,
// then releases every instance and the runtime. Closing the runtime frees
// each module's WASI state, which a call still running would read, so it
// must not happen under a call. Taking every slot waits for the calls,
// each bounded by its request's deadline, and orders their end before it
// (see RATIONALE.md, "Why does Close wait for the requests inside a
// guest?").
func (h *guestHost) close(ctx context.Context) error {
	close(h.closing)
	for range cap(h.slots) {
		h.slots <- struct{}{}
	}
	return h.rt.Close(ctx)
}
