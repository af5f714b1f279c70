package iforest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// encodingVersion leads the binary form, so a later layout can still read this one.
const encodingVersion = 1

// MarshalBinary encodes the forest compactly: varints for the shape, and for
// each node its feature, then a leaf's size or an inner node's children and
// split (8 bytes); a leaf's C(size) is recomputed on reading. A forest of 100 trees of ψ = 256 takes about 100 KB.
func (f *Forest) MarshalBinary() ([]byte, error) {
	b := binary.AppendUvarint(nil, encodingVersion)
	b = binary.AppendUvarint(b, uint64(f.Dims))
	b = binary.AppendUvarint(b, uint64(f.SampleSize))
	b = binary.AppendUvarint(b, uint64(len(f.Trees)))
	for _, t := range f.Trees {
		b = binary.AppendUvarint(b, uint64(len(t.Nodes)))
		for _, n := range t.Nodes {
			b = binary.AppendVarint(b, int64(n.Feature))
			if n.Feature < 0 {
				b = binary.AppendUvarint(b, uint64(n.Size))
				continue
			}
			b = binary.AppendUvarint(b, uint64(n.Left))
			b = binary.AppendUvarint(b, uint64(n.Right))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(n.Split))
		}
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote and validates it.
func (f *Forest) UnmarshalBinary(data []byte) error {
	r := reader{b: data}
	if v := r.uvarint(); v != encodingVersion {
		return fmt.Errorf("iforest: unknown encoding version %d", v)
	}
	dims, psi, trees := r.uvarint(), r.uvarint(), r.uvarint()
	// Every tree takes at least 2 bytes, so a count beyond the data is corrupt
	// (and must not size an allocation).
	if r.err != nil || trees > uint64(len(data)) || dims > math.MaxInt32 || psi > math.MaxInt32 {
		return errors.New("iforest: corrupt forest header")
	}
	out := Forest{Dims: int(dims), SampleSize: int(psi), Trees: make([]Tree, trees)}
	for t := range out.Trees {
		n := r.uvarint()
		if r.err != nil || n > uint64(len(data)) {
			return errors.New("iforest: corrupt tree")
		}
		nodes := make([]Node, n)
		for i := range nodes {
			nodes[i].Feature = int32(r.varint())
			if nodes[i].Feature < 0 {
				nodes[i] = leaf(int32(min(r.uvarint(), math.MaxInt32)))
				continue
			}
			nodes[i].Left = int32(min(r.uvarint(), math.MaxInt32))
			nodes[i].Right = int32(min(r.uvarint(), math.MaxInt32))
			nodes[i].Split = math.Float64frombits(r.uint64())
		}
		out.Trees[t].Nodes = nodes
	}
	if r.err != nil || len(r.b) != 0 {
		return errors.New("iforest: corrupt or trailing data")
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*f = out
	return nil
}

// reader decodes sequentially, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uint64() uint64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errors.New("iforest: truncated data")
	}
	r.b = nil
}
