import Foundation

/// A small uncased WordPiece vocabulary for the tiny corpus: the special tokens at BERT's
/// relative order, every character alone and as a `##` piece, then the corpus's frequent
/// lower-cased words (a few left out so `##` pieces get used).
enum TinyWordPieceVocabulary {
    static func build(_ text: String, wordCount: Int) -> [String] {
        var counts: [String: Int] = [:]
        var characters = Set<Character>()
        var word = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                word.append(character)
            } else {
                if !word.isEmpty { counts[word, default: 0] += 1 }
                word = ""
            }
            if !character.isWhitespace { characters.insert(character) }
        }
        if !word.isEmpty { counts[word, default: 0] += 1 }
        let singles = characters.map(String.init).sorted()
        let frequent = counts.filter { $0.key.count > 1 }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(wordCount).map(\.key).sorted()
        return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + singles + singles.map { "##" + $0 } + frequent
    }

    static func write(_ tokens: [String], to directory: String) throws {
        try Data(tokens.map { $0 + "\n" }.joined().utf8)
            .write(to: URL(fileURLWithPath: directory).appendingPathComponent("vocab.txt"))
    }
}
