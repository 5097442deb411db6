package sqlparse

import "google.golang.org/protobuf/reflect/protoreflect"

// Walk calls f for every node of type T in a parse tree (a RangeVar, a FuncCall), also inside those it
// finds (a function call's arguments hold calls too).
func Walk[T protoreflect.ProtoMessage](m protoreflect.Message, f func(T)) {
	if x, ok := m.Interface().(T); ok {
		f(x)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			if fd.Kind() == protoreflect.MessageKind {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					Walk(l.Get(i).Message(), f)
				}
			}
		case fd.IsMap():
		case fd.Kind() == protoreflect.MessageKind:
			Walk(v.Message(), f)
		}
		return true
	})
}
