import ArgumentParser

@main
struct Megatron: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "megatron",
        abstract: "Megatron-LM (Shoeybi et al., 2019) at CPU scale: tensor × data parallel GPT-2 and BERT.",
        subcommands: [Run.self, Train.self, Eval.self, Finetune.self, Prepare.self, Tables.self, Verify.self, Bench.self,
                      Tokenize.self])
}
