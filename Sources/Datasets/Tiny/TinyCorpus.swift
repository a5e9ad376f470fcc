import Foundation

/// A small synthetic corpus from a fixed grammar, in the raw formats the real data comes in
/// (WikiText `.tokens`, LAMBADA jsonl, RACE jsonl), so tests and the smoke run need nothing
/// outside the repository. Deterministic: the same text on every machine and run.
enum TinyCorpus {
    static let names = ["Ada", "Brook", "Cyrus", "Dana", "Elio", "Faye", "Gwen", "Hugo", "Iris", "Jonas", "Kira", "Lars"]
    static let places = ["Aldmoor", "Briarton", "Coldwater", "Dunmere", "Eastfold", "Fernhill", "Greyport", "Highmarsh"]
    static let nouns = ["river", "bridge", "garden", "tower", "market", "school", "harbour", "forest", "mill", "road",
                        "library", "castle", "village", "lake", "station", "farm"]
    static let adjectives = ["old", "small", "quiet", "busy", "green", "stone", "northern", "famous", "narrow", "wide"]
    static let verbs = ["built", "visited", "painted", "described", "repaired", "crossed", "opened", "closed", "studied", "found"]
    static let times = ["in 1820", "in 1901", "in the spring", "during the war", "after the flood", "before the fair"]

    struct Generator {
        var random: SplitMix64

        mutating func pick(_ words: [String]) -> String { words[random.below(words.count)] }

        /// One WikiText-style tokenized sentence (spaces around punctuation, `@-@`, ` 's`).
        mutating func sentence(about place: String) -> String {
            switch random.below(6) {
            case 0:
                return "\(pick(names)) \(pick(verbs)) the \(pick(adjectives)) \(pick(nouns)) of \(place) \(pick(times)) ."
            case 1:
                return "The \(pick(nouns)) near the \(pick(nouns)) is \(pick(adjectives)) and \(pick(adjectives)) ."
            case 2:
                return "\(pick(names)) 's \(pick(nouns)) was \(pick(verbs)) by \(pick(names)) , who lived in \(place) ."
            case 3:
                let number = 10 + random.below(90)
                return "It is \(number) @,@ \(100 + random.below(900)) metres from the \(pick(adjectives)) @-@ \(pick(nouns)) ( near \(pick(places)) ) ."
            case 4:
                return "\" The \(pick(nouns)) is \(pick(adjectives)) , \" said \(pick(names)) \(pick(times)) ."
            default:
                return "Many people \(pick(verbs)) the \(pick(nouns)) ; the \(pick(nouns)) was \(pick(adjectives)) ."
            }
        }

        /// One article in `.tokens` layout: title, blank lines, paragraphs, a subsection.
        mutating func article(_ index: Int) -> String {
            let place = places[index % places.count]
            var text = " = \(place) \(pick(nouns).capitalized) = \n \n"
            for section in 0..<2 {
                if section == 1 { text += " = = History = = \n \n" }
                for _ in 0..<2 {
                    let sentences = (0..<(3 + random.below(4))).map { _ in sentence(about: place) }
                    text += " " + sentences.joined(separator: " ") + " \n \n"
                }
            }
            return text
        }

        /// A LAMBADA-style passage whose last word names something said earlier in it.
        mutating func clozePassage() -> String {
            let name = pick(names)
            let noun = pick(nouns)
            let place = pick(places)
            return "\(name) walked to the \(pick(adjectives)) \(noun) in \(place). The morning was \(pick(adjectives)), "
                + "and \(pick(names)) asked where \(name) had gone. \"Look by the \(noun),\" said \(pick(names)). "
                + "So they went back to the \(noun)"
        }

        /// A RACE-style article with three questions, one of them a fill-in-the-blank.
        mutating func raceArticle(_ index: Int) -> [String: Any] {
            let place = places[index % places.count]
            let builder = pick(names)
            let noun = pick(nouns)
            let year = 1800 + random.below(200)
            let article = "\(builder) built a \(pick(adjectives)) \(noun) in \(place) in \(year). "
                + (0..<4).map { _ in WikiTextDetokenizer.detokenize(sentence(about: place)) }.joined(separator: " ")
            var questions: [String] = []
            var options: [[String]] = []
            var answers: [String] = []
            func ask(_ question: String, _ right: String, _ wrong: [String]) {
                var choices = Array(wrong.prefix(3))
                let slot = random.below(4)
                choices.insert(right, at: slot)
                questions.append(question)
                options.append(choices)
                answers.append(String(UnicodeScalar(UInt8(65 + slot))))
            }
            ask("Who built the \(noun)?", builder, names.filter { $0 != builder }.shuffledPrefix(3, &random))
            ask("The \(noun) was built in _ .", String(year), ["\(year + 7)", "\(year - 13)", "\(year + 40)"])
            ask("Where is the \(noun)?", "In \(place).", places.filter { $0 != place }.shuffledPrefix(3, &random).map { "In \($0)." })
            return ["article": article, "questions": questions, "options": options, "answers": answers,
                    "id": "tiny\(index).txt"]
        }
    }
}

extension Array {
    fileprivate func shuffledPrefix(_ count: Int, _ random: inout SplitMix64) -> [Element] {
        random.permutation(self.count).prefix(count).map { self[$0] }
    }
}
