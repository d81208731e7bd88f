#include "fhir/fhirpath/parser.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

#include "fhir/fhirpath/functions.h"
#include "fhir/fhirpath/quantity.h"
#include "fhir/model/model.h"

namespace ehr::fhirpath {
namespace {

enum class Tok : uint8_t {
  kEnd,
  kIdentifier,  // plain or `delimited`
  kString,
  kNumber,
  kDateTime,    // text without '@'
  kVariable,    // %name or %`name` or %'name'
  kDollar,      // $this, $index, $total
  kPunct,       // operators and brackets, text in `text`
};

struct Token {
  Tok kind = Tok::kEnd;
  uint32_t position = 0;
  std::string text;
  bool delimited = false;  // `identifier`
};

struct ParseError {
  uint32_t position;
  std::string message;
  bool semantic = false;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token Next() {
    SkipSpaceAndComments();
    Token t;
    t.position = static_cast<uint32_t>(pos_);
    if (pos_ >= text_.size()) return t;
    const char c = text_[pos_];
    if (IsIdentStart(c)) {
      size_t start = pos_;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      t.kind = Tok::kIdentifier;
      t.text = text_.substr(start, pos_ - start);
      return t;
    }
    if (c == '`') {
      t.kind = Tok::kIdentifier;
      t.delimited = true;
      t.text = ReadQuoted('`');
      return t;
    }
    if (c == '\'') {
      t.kind = Tok::kString;
      t.text = ReadQuoted('\'');
      return t;
    }
    if (IsDigit(c)) {
      size_t start = pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      if (pos_ + 1 < text_.size() && text_[pos_] == '.' && IsDigit(text_[pos_ + 1])) {
        ++pos_;
        while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      }
      t.kind = Tok::kNumber;
      t.text = text_.substr(start, pos_ - start);
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Long literal: an Integer here
      return t;
    }
    if (c == '@') {
      ++pos_;
      t.kind = Tok::kDateTime;
      t.text = ReadDateTime();
      if (t.text.empty()) throw ParseError{t.position, "malformed date/time literal"};
      return t;
    }
    if (c == '%') {
      ++pos_;
      t.kind = Tok::kVariable;
      if (pos_ < text_.size() && (text_[pos_] == '`' || text_[pos_] == '\'')) {
        t.text = ReadQuoted(text_[pos_]);
      } else if (pos_ < text_.size() && IsIdentStart(text_[pos_])) {
        size_t start = pos_;
        while (pos_ < text_.size() && (IsIdentChar(text_[pos_]) || text_[pos_] == '-')) ++pos_;
        t.text = text_.substr(start, pos_ - start);
      } else {
        throw ParseError{t.position, "expected a variable name after '%'"};
      }
      return t;
    }
    if (c == '$') {
      ++pos_;
      size_t start = pos_;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      t.kind = Tok::kDollar;
      t.text = text_.substr(start, pos_ - start);
      if (t.text != "this" && t.text != "index" && t.text != "total") {
        throw ParseError{t.position, "unknown special variable '$" + t.text + "'"};
      }
      return t;
    }
    static constexpr std::string_view kTwo[] = {"<=", ">=", "!=", "!~"};
    for (std::string_view op : kTwo) {
      if (text_.substr(pos_, 2) == op) {
        pos_ += 2;
        t.kind = Tok::kPunct;
        t.text = op;
        return t;
      }
    }
    if (std::string_view("+-*/&|<>=~()[]{},.").find(c) != std::string_view::npos) {
      ++pos_;
      t.kind = Tok::kPunct;
      t.text = std::string(1, c);
      return t;
    }
    throw ParseError{t.position, std::string("unexpected character '") + c + "'"};
  }

 private:
  void SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (text_.substr(pos_, 2) == "//") {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (text_.substr(pos_, 2) == "/*") {
        size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) throw ParseError{static_cast<uint32_t>(pos_), "unterminated comment"};
        pos_ = end + 2;
      } else {
        return;
      }
    }
  }

  std::string ReadQuoted(char quote) {
    const auto start = static_cast<uint32_t>(pos_);
    ++pos_;
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) throw ParseError{start, "unterminated literal"};
      char c = text_[pos_++];
      if (c == quote) return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) throw ParseError{start, "unterminated literal"};
      char e = text_[pos_++];
      switch (e) {
        case '\'': case '"': case '`': case '\\': case '/': out += e; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (pos_ + 4 > text_.size()) throw ParseError{static_cast<uint32_t>(pos_), "bad \\u escape"};
          unsigned cp = 0;
          for (int i = 0; i < 4; ++i) {
            char h = text_[pos_++];
            if (!std::isxdigit(static_cast<unsigned char>(h))) {
              throw ParseError{static_cast<uint32_t>(pos_ - 1), "bad \\u escape"};
            }
            cp = cp * 16 + (IsDigit(h) ? h - '0' : (std::tolower(h) - 'a' + 10));
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          throw ParseError{static_cast<uint32_t>(pos_ - 2), std::string("unknown escape '\\") + e + "'"};
      }
    }
  }

  static void AppendUtf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // Takes the longest run that can be part of a date/time literal; validity is checked by
  // Temporal::ParseLiteral.
  std::string ReadDateTime() {
    size_t start = pos_;
    auto digits = [&](size_t n) {
      for (size_t i = 0; i < n; ++i) {
        if (pos_ + i >= text_.size() || !IsDigit(text_[pos_ + i])) return false;
      }
      pos_ += n;
      return true;
    };
    auto time_part = [&] {
      if (!digits(2)) return;
      if (pos_ < text_.size() && text_[pos_] == ':' && pos_ + 1 < text_.size() && IsDigit(text_[pos_ + 1])) {
        ++pos_;
        digits(2);
        if (pos_ < text_.size() && text_[pos_] == ':' && pos_ + 1 < text_.size() && IsDigit(text_[pos_ + 1])) {
          ++pos_;
          digits(2);
          if (pos_ + 1 < text_.size() && text_[pos_] == '.' && IsDigit(text_[pos_ + 1])) {
            ++pos_;
            while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
          }
        }
      }
    };
    auto offset = [&] {
      if (pos_ < text_.size() && text_[pos_] == 'Z') {
        ++pos_;
      } else if (pos_ + 5 < text_.size() + 0 && (text_[pos_] == '+' || text_[pos_] == '-') &&
                 IsDigit(text_[pos_ + 1]) && IsDigit(text_[pos_ + 2]) && text_[pos_ + 3] == ':') {
        pos_ += 4;
        digits(2);
      }
    };
    if (pos_ < text_.size() && text_[pos_] == 'T') {
      ++pos_;
      time_part();
      return std::string(text_.substr(start, pos_ - start));
    }
    if (!digits(4)) return {};
    if (pos_ + 2 < text_.size() && text_[pos_] == '-' && IsDigit(text_[pos_ + 1])) {
      ++pos_;
      digits(2);
      if (pos_ + 2 < text_.size() && text_[pos_] == '-' && IsDigit(text_[pos_ + 1])) {
        ++pos_;
        digits(2);
      }
    }
    if (pos_ < text_.size() && text_[pos_] == 'T') {
      ++pos_;
      time_part();
      offset();
    } else {
      offset();
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

int Precedence(const Token& t, BinaryOp* op) {
  struct Entry {
    std::string_view text;
    bool word;
    BinaryOp op;
    int precedence;
  };
  static constexpr Entry kOps[] = {
      {"*", false, BinaryOp::kMul, 10},       {"/", false, BinaryOp::kDiv, 10},
      {"div", true, BinaryOp::kIntDiv, 10},   {"mod", true, BinaryOp::kMod, 10},
      {"+", false, BinaryOp::kAdd, 9},        {"-", false, BinaryOp::kSub, 9},
      {"&", false, BinaryOp::kConcat, 9},     {"is", true, BinaryOp::kIs, 8},
      {"as", true, BinaryOp::kAs, 8},         {"|", false, BinaryOp::kUnion, 7},
      {"<", false, BinaryOp::kLess, 6},       {">", false, BinaryOp::kGreater, 6},
      {"<=", false, BinaryOp::kLessEq, 6},    {">=", false, BinaryOp::kGreaterEq, 6},
      {"=", false, BinaryOp::kEq, 5},         {"~", false, BinaryOp::kEquiv, 5},
      {"!=", false, BinaryOp::kNotEq, 5},     {"!~", false, BinaryOp::kNotEquiv, 5},
      {"in", true, BinaryOp::kIn, 4},         {"contains", true, BinaryOp::kContains, 4},
      {"and", true, BinaryOp::kAnd, 3},       {"or", true, BinaryOp::kOr, 2},
      {"xor", true, BinaryOp::kXor, 2},       {"implies", true, BinaryOp::kImplies, 1},
  };
  const bool word = t.kind == Tok::kIdentifier && !t.delimited;
  if (!word && t.kind != Tok::kPunct) return -1;
  for (const Entry& e : kOps) {
    if (e.word == word && e.text == t.text) {
      *op = e.op;
      return e.precedence;
    }
  }
  return -1;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) { Advance(); }

  std::unique_ptr<Expr> ParseAll() {
    auto e = ParseExpression(0);
    if (tok_.kind != Tok::kEnd) Fail(tok_.position, "unexpected '" + Describe(tok_) + "'");
    return e;
  }

 private:
  [[noreturn]] static void Fail(uint32_t position, std::string message) {
    throw ParseError{position, std::move(message)};
  }
  [[noreturn]] static void FailSemantic(uint32_t position, std::string message) {
    throw ParseError{position, std::move(message), true};
  }

  static std::string Describe(const Token& t) {
    if (t.kind == Tok::kEnd) return "end of expression";
    return t.text;
  }

  void Advance() { tok_ = lexer_.Next(); }

  // Records the node's height; a tree too tall to evaluate without deep recursion fails.
  static std::unique_ptr<Expr> Checked(std::unique_ptr<Expr> node) {
    int depth = 0;
    for (const auto& child : node->args) {
      if (child != nullptr) depth = std::max<int>(depth, child->depth);
    }
    if (depth + 1 > kMaxTreeDepth) Fail(node->position, "expression nested too deeply");
    node->depth = static_cast<uint16_t>(depth + 1);
    return node;
  }
  bool IsPunct(std::string_view p) const { return tok_.kind == Tok::kPunct && tok_.text == p; }
  void Expect(std::string_view p) {
    if (!IsPunct(p)) Fail(tok_.position, "expected '" + std::string(p) + "' but found '" + Describe(tok_) + "'");
    Advance();
  }

  struct DepthGuard {
    explicit DepthGuard(Parser& p, uint32_t position) : parser(p) {
      if (++parser.depth_ > kMaxNesting) Fail(position, "expression nested too deeply");
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };

  std::unique_ptr<Expr> ParseExpression(int min_precedence) {
    DepthGuard guard(*this, tok_.position);
    auto lhs = ParseUnary();
    while (true) {
      BinaryOp op;
      const int precedence = Precedence(tok_, &op);
      if (precedence < 0 || precedence < min_precedence) return lhs;
      const uint32_t position = tok_.position;
      Advance();
      auto node = std::make_unique<Expr>();
      node->position = position;
      node->op = op;
      if (op == BinaryOp::kIs || op == BinaryOp::kAs) {
        node->kind = ExprKind::kTypeTest;
        node->type = ParseTypeSpec();
        node->args.push_back(std::move(lhs));
      } else {
        node->kind = ExprKind::kBinary;
        node->args.push_back(std::move(lhs));
        node->args.push_back(ParseExpression(precedence + 1));
      }
      lhs = Checked(std::move(node));
    }
  }

  TypeSpec ParseTypeSpec() {
    const uint32_t position = tok_.position;
    TypeSpec spec = ParseTypeName();
    const bool system = IsSystemTypeName(spec.name);
    const bool fhir = fhir::FindType(spec.name) != nullptr;
    if ((spec.ns == "FHIR" && !fhir) || (spec.ns.empty() && !system && !fhir) ||
        (!spec.ns.empty() && spec.ns != "System" && spec.ns != "FHIR")) {
      FailSemantic(position, "unknown type '" + (spec.ns.empty() ? "" : spec.ns + ".") + spec.name + "'");
    }
    return spec;
  }

  TypeSpec ParseTypeName() {
    if (tok_.kind != Tok::kIdentifier) Fail(tok_.position, "expected a type name");
    TypeSpec spec;
    spec.name = tok_.text;
    Advance();
    if (IsPunct(".")) {
      Advance();
      if (tok_.kind != Tok::kIdentifier) Fail(tok_.position, "expected a type name after '.'");
      spec.ns = std::move(spec.name);
      spec.name = tok_.text;
      Advance();
    }
    return spec;
  }

  std::unique_ptr<Expr> ParseUnary() {
    if (IsPunct("+") || IsPunct("-")) {
      DepthGuard guard(*this, tok_.position);
      auto node = std::make_unique<Expr>();
      node->kind = ExprKind::kUnary;
      node->position = tok_.position;
      node->op = tok_.text == "+" ? BinaryOp::kPlus : BinaryOp::kMinus;
      Advance();
      node->args.push_back(ParseUnary());
      return Checked(std::move(node));
    }
    return ParsePostfix();
  }

  std::unique_ptr<Expr> ParsePostfix() {
    auto e = ParseTerm();
    while (true) {
      if (IsPunct(".")) {
        Advance();
        if (tok_.kind != Tok::kIdentifier) Fail(tok_.position, "expected a name after '.'");
        e = ParseInvocation(std::move(e));
      } else if (IsPunct("[")) {
        DepthGuard guard(*this, tok_.position);
        auto node = std::make_unique<Expr>();
        node->kind = ExprKind::kIndexer;
        node->position = tok_.position;
        Advance();
        node->args.push_back(std::move(e));
        node->args.push_back(ParseExpression(0));
        Expect("]");
        e = Checked(std::move(node));
      } else {
        return e;
      }
    }
  }

  // At an identifier: a member or a function call, on `focus` (nullptr: $this).
  std::unique_ptr<Expr> ParseInvocation(std::unique_ptr<Expr> focus) {
    auto node = std::make_unique<Expr>();
    node->position = tok_.position;
    node->name = tok_.text;
    const bool delimited = tok_.delimited;
    Advance();
    node->args.push_back(std::move(focus));
    if (!IsPunct("(") || delimited) {
      node->kind = ExprKind::kMember;
      const Expr* f = node->focus();
      node->model_checked = f == nullptr || (f->kind == ExprKind::kMember && f->model_checked);
      if (std::isupper(static_cast<unsigned char>(node->name[0]))) node->named_type = fhir::FindType(node->name);
      node->member.emplace(node->name);
      return Checked(std::move(node));
    }
    DepthGuard guard(*this, node->position);
    node->kind = ExprKind::kCall;
    node->function = FindFunction(node->name);
    if (node->function == nullptr) FailSemantic(node->position, "unknown function '" + node->name + "'");
    Advance();
    if (!IsPunct(")")) {
      while (true) {
        if (node->function->type_argument && node->args.size() == 1) {
          const uint32_t at = tok_.position;
          node->type = ParseTypeSpec();
          if (!IsPunct(")")) Fail(at, "expected a type name as the argument of " + node->name + "()");
          node->args.push_back(nullptr);  // keeps the argument count
        } else {
          node->args.push_back(ParseExpression(0));
        }
        if (!IsPunct(",")) break;
        Advance();
      }
    }
    Expect(")");
    const size_t n = node->args.size() - 1;
    if (n < node->function->min_args || n > node->function->max_args) {
      FailSemantic(node->position, "wrong number of arguments for " + node->name + "(): " + std::to_string(n));
    }
    return Checked(std::move(node));
  }

  std::unique_ptr<Expr> Literal(uint32_t position, Item item) {
    auto node = std::make_unique<Expr>();
    node->kind = ExprKind::kLiteral;
    node->position = position;
    node->literal.push_back(std::move(item));
    return node;
  }

  std::unique_ptr<Expr> ParseTerm() {
    const Token t = tok_;
    switch (t.kind) {
      case Tok::kEnd:
        Fail(t.position, "unexpected end of expression");
      case Tok::kString:
        Advance();
        return Literal(t.position, Item::String(t.text));
      case Tok::kNumber: {
        Advance();
        // A quantity: number followed by a unit string or a calendar keyword.
        if (tok_.kind == Tok::kString || (tok_.kind == Tok::kIdentifier && !tok_.delimited &&
                                          IsCalendarKeyword(tok_.text))) {
          std::optional<Decimal> value = Decimal::Parse(t.text);
          if (!value) Fail(t.position, "number out of range");
          std::string unit = tok_.text;
          Advance();
          return Literal(t.position, Item::Qty(Quantity{*value, std::move(unit)}));
        }
        if (t.text.find('.') == std::string::npos) {
          errno = 0;
          char* end = nullptr;
          long long v = std::strtoll(t.text.c_str(), &end, 10);
          if (errno == ERANGE) Fail(t.position, "integer literal out of range");
          return Literal(t.position, Item::Integer(v));
        }
        std::optional<Decimal> value = Decimal::Parse(t.text);
        if (!value) Fail(t.position, "decimal literal out of range");
        return Literal(t.position, Item::Dec(*value));
      }
      case Tok::kDateTime: {
        Advance();
        std::optional<Temporal> value = Temporal::ParseLiteral(t.text);
        if (!value) Fail(t.position, "invalid date/time literal '@" + t.text + "'");
        return Literal(t.position, Item::Time(*value));
      }
      case Tok::kVariable: {
        Advance();
        auto node = std::make_unique<Expr>();
        node->kind = ExprKind::kVariable;
        node->position = t.position;
        node->name = t.text;
        return node;
      }
      case Tok::kDollar: {
        Advance();
        auto node = std::make_unique<Expr>();
        node->kind = t.text == "this" ? ExprKind::kThis : t.text == "index" ? ExprKind::kIndex : ExprKind::kTotal;
        node->position = t.position;
        return node;
      }
      case Tok::kIdentifier:
        if (!t.delimited && (t.text == "true" || t.text == "false")) {
          Advance();
          return Literal(t.position, Item::Boolean(t.text == "true"));
        }
        return ParseInvocation(nullptr);
      case Tok::kPunct:
        if (t.text == "(") {
          Advance();
          auto e = ParseExpression(0);
          Expect(")");
          return e;
        }
        if (t.text == "{") {
          Advance();
          Expect("}");
          auto node = std::make_unique<Expr>();
          node->kind = ExprKind::kLiteral;
          node->position = t.position;
          return node;
        }
        Fail(t.position, "unexpected '" + t.text + "'");
    }
    Fail(t.position, "unexpected token");
  }

  Lexer lexer_;
  Token tok_;
  int depth_ = 0;
};

std::string LineColumn(std::string_view text, uint32_t position) {
  int line = 1;
  int column = 1;
  for (uint32_t i = 0; i < position && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

Result<std::unique_ptr<Expr>> Parse(std::string_view text) {
  if (text.size() > kMaxExpressionBytes) {
    return Status::Invalid("syntax error: expression longer than " + std::to_string(kMaxExpressionBytes) + " bytes");
  }
  try {
    Parser parser(text);
    return parser.ParseAll();
  } catch (const ParseError& e) {
    return Status::Invalid(std::string(e.semantic ? "semantic" : "syntax") + " error at " +
                           LineColumn(text, e.position) + ": " + e.message);
  }
}

}  // namespace ehr::fhirpath
