import TensorCore

extension ParameterSet {
    /// Points each of `copies` at the value and gradient of this set's parameter of the same
    /// name: a second set of layer objects (own activation buffers, as a pipeline stage needs
    /// for each micro-batch in flight) that reads these weights and adds into these gradients.
    public func share(with copies: [Parameter<T>]) {
        let byName = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0) })
        for copy in copies {
            guard let original = byName[copy.name] else {
                preconditionFailure("ParameterSet.share: \(copy.name) is not a parameter of this set")
            }
            copy.value = original.value
            copy.gradient = original.gradient
        }
    }
}
