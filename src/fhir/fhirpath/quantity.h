// System.Quantity operations: calendar durations, UCUM conversion, comparison, arithmetic.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "fhir/fhirpath/value.h"

namespace ehr::fhirpath {

// The UCUM code a calendar duration keyword stands for ("days" -> "d", "year" -> "a"), or
// nullopt when `unit` is not a keyword.
std::optional<std::string_view> CalendarUnitToUcum(std::string_view unit);
bool IsCalendarKeyword(std::string_view unit);

// `=`: nullopt when the units are not comparable (and for year/month keywords against
// UCUM 'a'/'mo', whose lengths differ by definition).
std::optional<bool> QuantitiesEqual(const Quantity& a, const Quantity& b);
bool QuantitiesEquivalent(const Quantity& a, const Quantity& b);
// Ordering; nullopt when not comparable.
std::optional<int> CompareQuantities(const Quantity& a, const Quantity& b);
// Whether the units are commensurable (FHIRPath comparable()).
bool QuantitiesComparable(const Quantity& a, const Quantity& b);

// Arithmetic; nullopt when not defined for the units.
std::optional<Quantity> AddQuantities(const Quantity& a, const Quantity& b, bool subtract);
std::optional<Quantity> MultiplyQuantities(const Quantity& a, const Quantity& b);
std::optional<Quantity> DivideQuantities(const Quantity& a, const Quantity& b);

// The value in `unit` (UCUM or keyword), or nullopt when not convertible.
std::optional<Quantity> ConvertQuantity(const Quantity& q, std::string_view unit);

// "5 'mg'", "1 year".
std::string QuantityText(const Quantity& q);

}  // namespace ehr::fhirpath
