#include "synth/dates.h"

namespace ehr::synth {

int64_t DaysFromCivil(Civil c) {
  const int64_t y = c.month <= 2 ? c.year - 1 : c.year;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (c.month + (c.month > 2 ? -3 : 9)) + 2) / 5 + c.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  return {year, month, day};
}

bool ParseDate(const std::string& text, int64_t& days) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  Civil c{std::stoi(text.substr(0, 4)), std::stoi(text.substr(5, 2)), std::stoi(text.substr(8, 2))};
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > 31) return false;
  days = DaysFromCivil(c);
  const Civil back = CivilFromDays(days);
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
  const Civil c = CivilFromDays(days);
  Digits(out, c.year, 4);
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
  const Civil b = CivilFromDays(birth);
  const Civil d = CivilFromDays(day);
  int age = d.year - b.year;
  if (d.month < b.month || (d.month == b.month && d.day < b.day)) --age;
  return age;
}

}  // namespace ehr::synth
