#include "synth/dates.h"

namespace ehr::synth {

bool ParseDate(const std::string& text, int64_t& days) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  const CivilDate c{std::stoi(text.substr(0, 4)), std::stoi(text.substr(5, 2)), std::stoi(text.substr(8, 2))};
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > 31) return false;
  days = DaysFromCivil(c);
  const CivilDate back = CivilFromDays(days);
  return back.year == c.year && back.month == c.month && back.day == c.day;
}

namespace {

void Digits(std::string& out, int value, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, width);
}

}  // namespace

void AppendDate(std::string& out, int64_t days) {
  const CivilDate c = CivilFromDays(days);
  Digits(out, static_cast<int>(c.year), 4);
  out.push_back('-');
  Digits(out, c.month, 2);
  out.push_back('-');
  Digits(out, c.day, 2);
}

std::string DateText(int64_t days) {
  std::string out;
  AppendDate(out, days);
  return out;
}

void AppendDateTime(std::string& out, int64_t minutes) {
  int64_t days = minutes >= 0 ? minutes / 1440 : (minutes - 1439) / 1440;
  const int minute_of_day = static_cast<int>(minutes - days * 1440);
  AppendDate(out, days);
  out.push_back('T');
  Digits(out, minute_of_day / 60, 2);
  out.push_back(':');
  Digits(out, minute_of_day % 60, 2);
  out.append(":00Z");
}

std::string DateTimeText(int64_t minutes) {
  std::string out;
  AppendDateTime(out, minutes);
  return out;
}

int AgeOn(int64_t birth, int64_t day) {
  const CivilDate b = CivilFromDays(birth);
  const CivilDate d = CivilFromDays(day);
  int age = static_cast<int>(d.year - b.year);
  if (d.month < b.month || (d.month == b.month && d.day < b.day)) --age;
  return age;
}

}  // namespace ehr::synth
