#include "synth/person.h"

#include <cstdio>
#include <vector>

#include "mpi/national_id.h"
#include "synth/dates.h"

namespace ehr::synth {

std::string FillPattern(Rng& rng, const char* pattern) {
  std::string out;
  for (const char* p = pattern; *p; ++p) {
    if (*p == '#') {
      out.push_back(static_cast<char>('0' + rng.Below(10)));
    } else if (*p == '@') {
      out.push_back(static_cast<char>('A' + rng.Below(26)));
    } else {
      out.push_back(*p);
    }
  }
  return out;
}

std::string MakeNationalId(Rng& rng, Region region, bool female, int64_t birth, const std::string& postcode) {
  char buf[32];
  switch (region) {
    case Region::kUk:
      for (;;) {
        std::snprintf(buf, sizeof buf, "%d%08u", 4 + static_cast<int>(rng.Below(3)), rng.Below(100000000));
        std::optional<int> check = mpi::NhsCheckDigit(buf);
        if (!check) continue;
        return std::string(buf) + static_cast<char>('0' + *check);
      }
    case Region::kDe: {
      const char letter = static_cast<char>('A' + rng.Below(26));
      std::snprintf(buf, sizeof buf, "%08u", rng.Below(100000000));
      return std::string(1, letter) + buf + static_cast<char>('0' + mpi::KvnrCheckDigit(letter, buf));
    }
    case Region::kFr: {
      const CivilDate b = CivilFromDays(birth);
      std::string dept = postcode.size() >= 2 ? postcode.substr(0, 2) : "75";
      if (dept == "20") dept = rng.Chance(0.5) ? "2A" : "2B";
      std::snprintf(buf, sizeof buf, "%d%02d%02d%s%03u%03u", female ? 2 : 1, static_cast<int>(b.year % 100), b.month, dept.c_str(),
                    1 + rng.Below(900), 1 + rng.Below(999));
      std::snprintf(buf + 13, sizeof buf - 13, "%02d", mpi::NirKey(std::string_view(buf, 13)));
      return buf;
    }
    case Region::kUs: {
      unsigned area;
      do {
        area = 1 + rng.Below(899);
      } while (area == 666);
      std::snprintf(buf, sizeof buf, "%03u%02u%04u", area, 1 + rng.Below(99), 1 + rng.Below(9999));
      return buf;
    }
  }
  return "";
}

namespace {

mpi::NationalIdKind KindOf(Region region) {
  switch (region) {
    case Region::kUk: return mpi::NationalIdKind::kNhsNumber;
    case Region::kDe: return mpi::NationalIdKind::kKvnr;
    case Region::kFr: return mpi::NationalIdKind::kNir;
    case Region::kUs: return mpi::NationalIdKind::kSsn;
  }
  return mpi::NationalIdKind::kSsn;
}

const City& PickCity(Rng& rng, std::span<const City> cities) {
  double total = 0;
  for (const City& c : cities) total += c.weight;
  double x = rng.Real() * total;
  for (const City& c : cities) {
    if (x < c.weight) return c;
    x -= c.weight;
  }
  return cities.back();
}

int PickAge(Rng& rng, const Locale& locale) {
  double total = 0;
  for (double share : locale.age_bands) total += share;
  double x = rng.Real() * total;
  for (int band = 0; band < 10; ++band) {
    if (x < locale.age_bands[band]) return band * 10 + static_cast<int>(rng.Below(10));
    x -= locale.age_bands[band];
  }
  return 90 + static_cast<int>(rng.Below(10));
}

}  // namespace

Person MakePerson(uint64_t seed, Region home, uint32_t index, int64_t end_day) {
  Rng rng(Mix(seed, static_cast<uint64_t>(home) + 1, index, Tag("person")));
  const Locale& locale = LocaleOf(home);
  Person p;
  p.home = home;
  p.index = index;
  p.female = rng.Chance(0.51);
  const int age = PickAge(rng, locale);
  p.birth = end_day - age * 36525 / 100 - static_cast<int64_t>(rng.Below(365)) - 1;
  const auto& givens = p.female ? locale.female_given : locale.male_given;
  p.given = givens[rng.Ranked(givens.size())];
  if (rng.Chance(0.3)) {
    p.middle = givens[rng.Ranked(givens.size())];
    if (p.middle == p.given) p.middle.clear();
  }
  p.family = locale.family[rng.Ranked(locale.family.size())];
  const City& city = PickCity(rng, locale.cities);
  const std::string street = locale.streets[rng.Below(static_cast<uint32_t>(locale.streets.size()))];
  const std::string number = std::to_string(1 + rng.Ranked(180));
  p.line = locale.number_first ? number + " " + street : street + " " + number;
  p.city = city.name;
  p.district = city.district;
  p.state = city.state;
  p.postcode = FillPattern(rng, city.postcode);
  p.country = locale.country;
  p.phone = FillPattern(rng, city.phone);
  p.mobile = FillPattern(rng, locale.mobile);
  p.national_system = std::string(mpi::SystemOf(KindOf(home)));
  p.national_id = MakeNationalId(rng, home, p.female, p.birth, p.postcode);
  return p;
}

std::string Typo(Rng& rng, const std::string& text, std::string& what) {
  // Character boundaries (UTF-8 lead bytes).
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  if (starts.size() < 3) {
    what = "none";
    return text;
  }
  starts.push_back(text.size());
  auto piece = [&](size_t k) { return text.substr(starts[k], starts[k + 1] - starts[k]); };
  const size_t n = starts.size() - 1;
  // Keep the first letter: people rarely mistype it, and blocking keys rely on it.
  const size_t k = 1 + rng.Below(static_cast<uint32_t>(n - 1));
  std::string out = text.substr(0, starts[k]);
  switch (rng.Below(4)) {
    case 0:  // transposition with the next letter
      if (k + 1 < n && piece(k) != piece(k + 1)) {
        what = "transposition";
        out += piece(k + 1) + piece(k) + text.substr(starts[k + 2]);
        return out;
      }
      [[fallthrough]];
    case 1:
      what = "deletion";
      out += text.substr(starts[k + 1]);
      return out;
    case 2:
      what = "insertion";
      out += piece(k) + text.substr(starts[k]);
      return out;
    default: {
      static constexpr char kLetters[] = "aeinorstlcu";
      std::string sub(1, kLetters[rng.Below(sizeof kLetters - 1)]);
      if (sub == piece(k)) sub = "e" == sub ? "a" : "e";
      what = "substitution";
      out += sub + text.substr(starts[k + 1]);
      return out;
    }
  }
}

}  // namespace ehr::synth
