/// The figures an experiment's record supports, each drawn for its claim: the loss curves (or,
/// for a parity experiment, the deviation between layouts that replaces them), perplexity
/// against model size, efficiency bars, accuracy against chance. A figure whose data a record
/// lacks is not drawn.
enum ExperimentFigures {
    static func figures(_ record: RunRecord) -> [Figure] {
        [ParityFigure.make(record) ?? LossCurvesFigure.make(record), ModelSizeFigure.make(record),
         EfficiencyBarsFigure.make(record), RACEAccuracyFigure.make(record), ScalingModelFigure.make(record)].compactMap { $0 }
    }
}
