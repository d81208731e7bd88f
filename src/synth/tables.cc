// The clinical code tables of the population generator (see tables.h).
//
// Sources of the codes (codes and their names are facts; no text is copied beyond them):
// - SNOMED CT, LOINC, RxNorm and CVX codes with their displays: mostly from the Synthea sample
//   population in shared/data/synthea (Synthea 2.7.0 FHIR bundles, Apache-2.0, via samply/blaze),
//   with SNOMED semantic tags such as "(disorder)" dropped and capitals normalised. A few come
//   from Synthea's own module files (synthetichealth/synthea, Apache-2.0): levothyroxine
//   966222, allopurinol 197319, colchicine 197541, TSH 3016-3, free T4 3024-7, gout 90560007.
//   The rest (for example myocardial infarction 22298006, hypothyroidism 40930008, most symptoms,
//   the LOINC long common names of the basic metabolic panel on blood, vitamin D 62292-8, CVX 187
//   and 208, levetiracetam 311289, tamsulosin 863669) are from the SNOMED CT, LOINC, RxNorm and
//   CDC CVX code systems as the author knows them, the less common ones spot-checked against
//   public uses of the same code. Where Synthea's display is a short label rather than the
//   SNOMED term or LOINC long common name ("Diabetes", "Glucose", "Lipid Panel"), the latter is used.
// - ICD-10: ICD-10-CM (US CDC/CMS, public domain), each code checked against the list in
//   shared/data/icd10cm; billable codes preferred. U07.1 (COVID-19) is the WHO ICD-10 and
//   ICD-10-CM code since 2020 and is newer than that list.
// - ATC: WHO Collaborating Centre for Drug Statistics Methodology, ATC index.
// - CPT: American Medical Association CPT code set (codes only).
// - OPS: BfArM Operationen- und Prozedurenschlüssel (codes only); left "" where not certain.
// - Prevalences, onset ages, reference ranges, critical limits and vital sign distributions are
//   rounded estimates from general clinical knowledge (typical adult laboratory ranges,
//   commonly cited lifetime prevalences); they aim at plausibility, not at any one population.
#include "synth/tables.h"

namespace ehr::synth {
namespace {

constexpr Sex kAny = Sex::kAny;
constexpr Sex kFemale = Sex::kFemale;
constexpr Sex kMale = Sex::kMale;
constexpr bool kChronic = true;
constexpr bool kAcute = false;
constexpr bool kInpatient = true;
constexpr bool kOutpatient = false;

// --- Conditions ---------------------------------------------------------------------------
// snomed, icd10, display, prevalence by 80, onset min/max, sex, chronic, resolve_days,
// meds (ATC), labs (LOINC), symptoms (SNOMED), abnormal lab, inpatient.
constexpr ConditionDef kConditions[] = {
    // Cardiovascular and metabolic.
    {"59621000", "I10", "Hypertension", 0.45, 30, 75, kAny, kChronic, 0, "C09AA03 C03AA03 C08CA01",
     "2160-0 2823-3 2951-2 33914-3", "25064002 404640003", "", kOutpatient},
    {"44054006", "E11.9", "Type 2 diabetes mellitus", 0.12, 35, 75, kAny, kChronic, 0, "A10BA02 A10AD01",
     "4548-4 2345-7 2160-0 14959-1 33914-3", "17173007 84229001", "4548-4 high", kOutpatient},
    {"15777000", "R73.03", "Prediabetes", 0.30, 30, 70, kAny, kChronic, 0, "", "4548-4 2345-7", "", "4548-4 high",
     kOutpatient},
    {"55822004", "E78.5", "Hyperlipidemia", 0.35, 30, 70, kAny, kChronic, 0, "C10AA01", "2093-3 18262-6 2085-9 2571-8",
     "", "18262-6 high", kOutpatient},
    {"302870006", "E78.1", "Hypertriglyceridemia", 0.10, 30, 70, kAny, kChronic, 0, "C10AA01",
     "2093-3 18262-6 2085-9 2571-8", "", "2571-8 high", kOutpatient},
    {"237602007", "E88.81", "Metabolic syndrome X", 0.15, 30, 70, kAny, kChronic, 0, "", "2345-7 2571-8 2085-9", "",
     "2571-8 high", kOutpatient},
    {"162864005", "E66.9", "Body mass index 30+ - obesity", 0.30, 18, 65, kAny, kChronic, 0, "", "4548-4", "", "",
     kOutpatient},
    {"408512008", "E66.01", "Body mass index 40+ - severely obese", 0.06, 18, 60, kAny, kChronic, 0, "", "4548-4", "",
     "", kOutpatient},
    {"49436004", "I48.91", "Atrial fibrillation", 0.08, 55, 85, kAny, kChronic, 0, "B01AA03 C07AG02 C01AA05",
     "6301-6 2823-3 3016-3", "80313002 404640003 267036007 271594007", "", kOutpatient},
    {"88805009", "I50.9", "Chronic congestive heart failure", 0.06, 60, 85, kAny, kChronic, 0,
     "C03CA01 C07AG02 C09AA03", "33762-6 2160-0 2823-3 2951-2", "267036007 84229001 267038008", "33762-6 high",
     kOutpatient},
    {"53741008", "I25.10", "Coronary heart disease", 0.12, 50, 85, kAny, kChronic, 0, "B01AC06 C10AA01 C01DA02 C07AG02",
     "2093-3 18262-6 2085-9 2571-8", "29857009 267036007", "", kOutpatient},
    {"22298006", "I21.9", "Myocardial infarction", 0.07, 45, 85, kAny, kAcute, 28, "B01AC06 B01AC04 C10AA01 C07AG02",
     "89579-7 2823-3", "29857009 267036007 422587007", "89579-7 high", kInpatient},
    {"230690007", "I63.9", "Stroke", 0.06, 50, 90, kAny, kAcute, 90, "B01AD02 B01AC06 C10AA01", "2345-7 6301-6",
     "26544005 404640003 25064002", "", kInpatient},
    {"706870000", "I26.99", "Acute pulmonary embolism", 0.02, 30, 85, kAny, kAcute, 90, "B01AB05 B01AA03", "48065-7",
     "267036007 29857009", "48065-7 high", kInpatient},
    {"132281000119108", "I82.409", "Acute deep venous thrombosis", 0.03, 30, 85, kAny, kAcute, 90, "B01AB05 B01AA03",
     "48065-7", "267038008", "48065-7 high", kOutpatient},

    // Kidney and diabetic complications.
    {"431856006", "N18.2", "Chronic kidney disease stage 2", 0.08, 45, 80, kAny, kChronic, 0, "C09AA03",
     "2160-0 33914-3 14959-1", "", "", kOutpatient},
    {"433144002", "N18.3", "Chronic kidney disease stage 3", 0.10, 55, 85, kAny, kChronic, 0, "C09AA03",
     "2160-0 33914-3 2823-3 14959-1 718-7", "84229001", "33914-3 low", kOutpatient},
    {"127013003", "E11.21", "Diabetic renal disease", 0.04, 45, 80, kAny, kChronic, 0, "C09AA03",
     "14959-1 2160-0 33914-3", "", "14959-1 high", kOutpatient},
    {"368581000119106", "E11.40", "Neuropathy due to type 2 diabetes mellitus", 0.04, 45, 80, kAny, kChronic, 0,
     "N03AX16", "4548-4", "", "", kOutpatient},

    // Respiratory.
    {"195967001", "J45.909", "Asthma", 0.12, 3, 40, kAny, kChronic, 0, "R03AC02 R03BA05 R03AK06", "",
     "56018004 49727002 267036007", "", kOutpatient},
    {"185086009", "J44.9", "Chronic obstructive bronchitis", 0.07, 45, 80, kAny, kChronic, 0, "R03AK06 R03AC02 H02AB07",
     "", "49727002 267036007 56018004 248595008", "", kOutpatient},
    {"87433001", "J43.9", "Pulmonary emphysema", 0.03, 50, 85, kAny, kChronic, 0, "R03AK06 R03AC02", "",
     "267036007 49727002", "", kOutpatient},
    {"73430006", "G47.30", "Sleep apnea", 0.08, 30, 70, kAny, kChronic, 0, "", "", "84229001", "", kOutpatient},
    {"367498001", "J30.2", "Seasonal allergic rhinitis", 0.20, 5, 40, kAny, kChronic, 0, "R06AX13 R06AE07 R06AX26", "",
     "76067001 68235000 64531003", "", kOutpatient},
    {"446096008", "J30.89", "Perennial allergic rhinitis", 0.08, 5, 40, kAny, kChronic, 0, "R06AE07", "",
     "76067001 68235000 64531003", "", kOutpatient},
    {"40055000", "J32.9", "Chronic sinusitis", 0.12, 20, 60, kAny, kChronic, 0, "", "", "68235000 25064002", "",
     kOutpatient},

    // Mental health, neurology, substance use.
    {"370143000", "F32.9", "Major depressive disorder", 0.18, 15, 65, kAny, kChronic, 0, "N06AB03", "",
     "366979004 193462001 84229001", "", kOutpatient},
    {"197480006", "F41.9", "Anxiety disorder", 0.15, 15, 60, kAny, kChronic, 0, "N06AB03", "",
     "48694002 80313002 193462001", "", kOutpatient},
    {"192127007", "F90.9", "Child attention deficit disorder", 0.08, 5, 12, kAny, kChronic, 0, "", "", "", "",
     kOutpatient},
    {"26929004", "G30.9", "Alzheimer's disease", 0.08, 65, 90, kAny, kChronic, 0, "N06DA02 N06DX01 N06DA04",
     "2132-9 3016-3", "386807006", "", kOutpatient},
    {"49049000", "G20", "Parkinson's disease", 0.02, 55, 85, kAny, kChronic, 0, "", "", "26079004", "", kOutpatient},
    {"128613002", "G40.909", "Seizure disorder", 0.02, 0, 70, kAny, kChronic, 0, "N03AX14", "", "91175000", "",
     kOutpatient},
    {"37796009", "G43.909", "Migraine", 0.15, 10, 50, kAny, kChronic, 0, "M01AE01 N02BE01", "", "25064002 422587007",
     "", kOutpatient},
    {"7200002", "F10.20", "Alcoholism", 0.05, 18, 50, kAny, kChronic, 0, "", "1742-6 1920-8", "", "1920-8 high",
     kOutpatient},
    {"5602001", "F11.10", "Opioid abuse", 0.01, 18, 50, kAny, kChronic, 0, "N07BC51", "", "", "", kOutpatient},
    {"449868002", "F17.210", "Smokes tobacco daily", 0.20, 14, 30, kAny, kChronic, 0, "", "", "49727002", "",
     kOutpatient},

    // Musculoskeletal and pain.
    {"239873007", "M17.9", "Osteoarthritis of knee", 0.25, 45, 80, kAny, kChronic, 0, "M01AE01 N02BE01 M01AE02 N02AX02",
     "", "57676002", "", kOutpatient},
    {"239872002", "M16.9", "Osteoarthritis of hip", 0.10, 50, 85, kAny, kChronic, 0, "M01AE01 N02BE01 M01AE02 N02AX02",
     "", "57676002", "", kOutpatient},
    {"64859006", "M81.0", "Osteoporosis", 0.15, 50, 85, kAny, kChronic, 0, "M05BA04", "62292-8 17861-6", "",
     "62292-8 low", kOutpatient},
    {"69896004", "M06.9", "Rheumatoid arthritis", 0.01, 30, 70, kAny, kChronic, 0, "L04AX03 P01BA02 H02AB07",
     "1988-5 30341-2", "57676002 84229001", "1988-5 high", kOutpatient},
    {"90560007", "M10.9", "Gout", 0.04, 30, 80, kAny, kChronic, 0, "M04AA01 M04AC01 M01AE02", "3084-1", "57676002",
     "3084-1 high", kOutpatient},
    {"203082005", "M79.7", "Fibromyalgia", 0.03, 25, 60, kAny, kChronic, 0, "N03AX16", "",
     "68962001 84229001 193462001", "", kOutpatient},
    {"278860009", "M54.5", "Chronic low back pain", 0.25, 20, 70, kAny, kChronic, 0, "M01AE01 N02BE01 N02AX02", "",
     "161891005", "", kOutpatient},
    {"1121000119107", "M54.2", "Chronic neck pain", 0.10, 20, 70, kAny, kChronic, 0, "M01AE01 N02BE01", "", "81680005",
     "", kOutpatient},
    {"82423001", "G89.29", "Chronic pain", 0.10, 30, 75, kAny, kChronic, 0, "N02AX02 N02BE01", "", "", "", kOutpatient},

    // Endocrine, blood, digestive, urinary, skin.
    {"40930008", "E03.9", "Hypothyroidism", 0.08, 30, 75, kAny, kChronic, 0, "H03AA01", "3016-3 3024-7",
     "84229001 14760008", "3016-3 high", kOutpatient},
    {"271737000", "D64.9", "Anemia", 0.10, 15, 85, kAny, kChronic, 0, "B03AA07 B03BA01",
     "718-7 4544-3 787-2 2276-4 2132-9", "84229001 404640003", "718-7 low", kOutpatient},
    {"235595009", "K21.9", "Gastroesophageal reflux disease", 0.15, 20, 70, kAny, kChronic, 0, "", "", "16331000", "",
     kOutpatient},
    {"68496003", "K63.5", "Polyp of colon", 0.20, 45, 80, kAny, kChronic, 0, "", "", "", "", kOutpatient},
    {"266569009", "N40.0", "Benign prostatic hyperplasia", 0.40, 50, 85, kMale, kChronic, 0, "G04CA02", "2857-1",
     "162116003", "", kOutpatient},
    {"24079001", "L20.9", "Atopic dermatitis", 0.12, 0, 10, kAny, kChronic, 0, "D07AA02", "", "418290006 271807003", "",
     kOutpatient},

    // Cancers.
    {"254837009", "C50.919", "Malignant neoplasm of breast", 0.10, 40, 80, kFemale, kChronic, 0, "L02BG03 L01CD01",
     "718-7 6690-2", "", "", kOutpatient},
    {"399068003", "C61", "Malignant tumor of prostate", 0.11, 55, 85, kMale, kChronic, 0, "L02AE02 L01CD02", "2857-1",
     "162116003", "2857-1 high", kOutpatient},
    {"363406005", "C18.9", "Malignant neoplasm of colon", 0.04, 50, 85, kAny, kChronic, 0, "L01XA03 V03AF03", "718-7",
     "21522001 89362005 79890006", "718-7 low", kOutpatient},
    {"254637007", "C34.90", "Non-small cell lung cancer", 0.05, 55, 85, kAny, kChronic, 0,
     "L01XA01 L01CD01 L01CB01 N02AB03", "718-7 6690-2", "49727002 267036007 66857006 89362005", "", kOutpatient},

    // Acute infections.
    {"444814009", "J01.90", "Viral sinusitis", 0.90, 0, 80, kAny, kAcute, 14, "", "",
     "68235000 25064002 49727002 64531003", "", kOutpatient},
    {"75498004", "J01.90", "Acute bacterial sinusitis", 0.15, 5, 80, kAny, kAcute, 14, "J01CR02 J01CA04", "",
     "68235000 25064002 386661006", "", kOutpatient},
    {"195662009", "J02.9", "Acute viral pharyngitis", 0.80, 0, 80, kAny, kAcute, 10, "N02BE01", "",
     "267102003 386661006 49727002", "", kOutpatient},
    {"43878008", "J02.0", "Streptococcal sore throat", 0.30, 3, 40, kAny, kAcute, 10, "J01CE02 J01CA04", "",
     "267102003 386661006", "", kOutpatient},
    {"10509002", "J20.9", "Acute bronchitis", 0.50, 0, 80, kAny, kAcute, 21, "N02BE01", "",
     "49727002 248595008 56018004 386661006", "", kOutpatient},
    {"233604007", "J18.9", "Pneumonia", 0.15, 0, 85, kAny, kAcute, 21, "J01CR02 J01DC02", "1988-5 6690-2",
     "49727002 386661006 267036007 43724002", "1988-5 high", kOutpatient},
    {"6142004", "J11.1", "Influenza", 0.40, 0, 85, kAny, kAcute, 10, "N02BE01", "",
     "386661006 68962001 49727002 43724002 25064002", "", kOutpatient},
    {"840539006", "U07.1", "COVID-19", 0.50, 0, 85, kAny, kAcute, 14, "N02BE01", "",
     "386661006 49727002 36955009 84229001 267036007 68962001", "", kOutpatient},
    {"65363002", "H66.90", "Otitis media", 0.60, 0, 8, kAny, kAcute, 10, "J01CA04 M01AE01 N02BE01", "",
     "16001004 386661006", "", kOutpatient},
    {"9826008", "H10.9", "Conjunctivitis", 0.40, 0, 80, kAny, kAcute, 7, "", "", "", "", kOutpatient},
    {"25374005", "K52.9", "Gastroenteritis", 0.60, 0, 80, kAny, kAcute, 5, "", "",
     "267060006 249497008 422587007 21522001", "", kOutpatient},
    {"38822007", "N30.90", "Cystitis", 0.45, 15, 80, kFemale, kAcute, 7, "J01XE01 G04BX06", "", "49650001 162116003",
     "", kOutpatient},
    {"197927001", "N39.0", "Recurrent urinary tract infection", 0.08, 20, 80, kFemale, kAcute, 14, "J01XE01", "",
     "49650001 162116003", "", kOutpatient},
    {"128045006", "L03.90", "Cellulitis", 0.10, 20, 85, kAny, kAcute, 10, "J01CR02", "1988-5", "386661006",
     "1988-5 high", kOutpatient},
    {"38907003", "B01.9", "Varicella", 0.10, 1, 10, kAny, kAcute, 14, "", "", "271807003 418290006 386661006", "",
     kOutpatient},
    {"91302008", "A41.9", "Sepsis", 0.03, 0, 90, kAny, kAcute, 21, "J01CR05 J01XA01", "6690-2 1988-5 2160-0",
     "386661006 43724002", "6690-2 high", kInpatient},

    // Acute abdominal, allergic and dental.
    {"74400008", "K37", "Appendicitis", 0.07, 5, 40, kAny, kAcute, 14, "", "6690-2 1988-5",
     "21522001 422587007 249497008 386661006", "6690-2 high", kInpatient},
    {"235919008", "K80.20", "Cholelithiasis", 0.10, 30, 70, kAny, kAcute, 30, "", "1975-2 6768-6", "21522001 422587007",
     "", kOutpatient},
    {"95570007", "N20.0", "Kidney stone", 0.08, 20, 70, kAny, kAcute, 14, "M01AE01", "", "21522001 34436003 422587007",
     "", kOutpatient},
    {"241929008", "T78.40XA", "Acute allergic reaction", 0.10, 0, 80, kAny, kAcute, 3, "R06AA02 C01CA24", "",
     "418290006 271807003", "", kOutpatient},
    {"196416002", "K01.1", "Impacted molars", 0.15, 16, 30, kAny, kAcute, 14, "N02BE01", "", "", "", kOutpatient},

    // Injuries.
    {"44465007", "S93.409A", "Sprain of ankle", 0.30, 5, 60, kAny, kAcute, 28, "M01AE01 M01AE02", "", "57676002", "",
     kOutpatient},
    {"70704007", "S63.509A", "Sprain of wrist", 0.15, 5, 60, kAny, kAcute, 28, "M01AE01", "", "57676002", "",
     kOutpatient},
    {"16114001", "S82.899A", "Fracture of ankle", 0.06, 5, 80, kAny, kAcute, 56, "N02BE01 M01AE01", "", "57676002", "",
     kOutpatient},
    {"65966004", "S52.90XA", "Fracture of forearm", 0.08, 3, 80, kAny, kAcute, 56, "N02BE01 M01AE01", "", "", "",
     kOutpatient},
    {"58150001", "S42.009A", "Fracture of clavicle", 0.03, 3, 50, kAny, kAcute, 42, "N02BE01", "", "", "", kOutpatient},
    {"33737001", "S22.39XA", "Fracture of rib", 0.04, 20, 85, kAny, kAcute, 42, "N02BE01", "", "29857009", "",
     kOutpatient},
    {"359817006", "S72.009A", "Closed fracture of hip", 0.05, 70, 90, kAny, kAcute, 90, "N02BE01 B01AB05", "718-7",
     "57676002", "", kInpatient},
    {"62106007", "S06.0X0A", "Concussion with no loss of consciousness", 0.10, 5, 40, kAny, kAcute, 21, "N02BE01", "",
     "25064002 404640003 422587007", "", kOutpatient},
    {"39848009", "S13.4XXA", "Whiplash injury to neck", 0.05, 18, 60, kAny, kAcute, 42, "M01AE01", "", "81680005", "",
     kOutpatient},
    {"284551006", "S91.319A", "Laceration of foot", 0.10, 3, 60, kAny, kAcute, 14, "", "", "", "", kOutpatient},
    {"283371005", "S51.819A", "Laceration of forearm", 0.10, 3, 60, kAny, kAcute, 14, "", "", "", "", kOutpatient},
    {"239720000", "S83.209A", "Tear of meniscus of knee", 0.05, 15, 60, kAny, kAcute, 90, "M01AE01", "", "57676002", "",
     kOutpatient},
    {"307731004", "S46.019A", "Injury of tendon of the rotator cuff of shoulder", 0.05, 30, 70, kAny, kAcute, 90,
     "M01AE01", "", "57676002", "", kOutpatient},

    // Pregnancy.
    {"72892002", "Z34.90", "Normal pregnancy", 0.60, 16, 42, kFemale, kAcute, 280, "", "718-7", "422587007 249497008",
     "", kOutpatient},
    {"19169002", "O03.9", "Miscarriage in first trimester", 0.15, 16, 42, kFemale, kAcute, 14, "", "", "21522001", "",
     kOutpatient},
    {"79586000", "O00.109", "Tubal pregnancy", 0.01, 18, 40, kFemale, kAcute, 14, "", "", "21522001", "", kInpatient},
    {"11687002", "O24.419", "Gestational diabetes mellitus", 0.05, 20, 42, kFemale, kAcute, 180, "", "2345-7 4548-4",
     "", "2345-7 high", kOutpatient},
    {"398254007", "O14.90", "Preeclampsia", 0.03, 18, 42, kFemale, kAcute, 60, "", "5804-0", "25064002 267038008",
     "5804-0 high", kInpatient},
};

// --- Medications --------------------------------------------------------------------------
// atc, rxnorm (clinical drug), RxNorm name, dose.
constexpr MedicationDef kMedications[] = {
    // Cardiovascular.
    {"C09AA03", "314076", "lisinopril 10 MG Oral Tablet", "10 mg once daily"},
    {"C03AA03", "310798", "Hydrochlorothiazide 25 MG Oral Tablet", "25 mg once daily in the morning"},
    {"C08CA01", "197361", "Amlodipine 5 MG Oral Tablet", "5 mg once daily"},
    {"C10AA01", "312961", "Simvastatin 20 MG Oral Tablet", "20 mg once daily in the evening"},
    {"C07AG02", "200033", "carvedilol 25 MG Oral Tablet", "25 mg twice daily with food"},
    {"C03CA01", "313988", "Furosemide 40 MG Oral Tablet", "40 mg once daily in the morning"},
    {"C01AA05", "197604", "Digoxin 0.125 MG Oral Tablet", "0.125 mg once daily"},
    {"C01DA02", "705129", "Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray",
     "1 spray under the tongue as needed for chest pain"},
    {"B01AC06", "243670", "Aspirin 81 MG Oral Tablet", "81 mg once daily"},
    {"B01AC04", "309362", "Clopidogrel 75 MG Oral Tablet", "75 mg once daily"},
    {"B01AA03", "855332", "Warfarin Sodium 5 MG Oral Tablet", "5 mg once daily, adjusted to the INR"},
    {"B01AB05", "854235", "0.4 ML Enoxaparin sodium 100 MG/ML Prefilled Syringe", "40 mg subcutaneously once daily"},
    {"B01AD02", "1804799", "Alteplase 100 MG Injection", "0.9 mg/kg intravenously over 60 minutes, at most 90 mg"},
    {"C01CA24", "1870230", "NDA020800 0.3 ML Epinephrine 1 MG/ML Auto-Injector",
     "0.3 mg into the outer thigh for anaphylaxis"},

    // Diabetes, thyroid, bone, gout.
    {"A10BA02", "860975", "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
     "500 mg once daily with the evening meal"},
    {"A10AD01", "106892",
     "insulin human, isophane 70 UNT/ML / Regular Insulin, Human 30 UNT/ML Injectable Suspension [Humulin]",
     "10 units subcutaneously twice daily before breakfast and dinner"},
    {"H03AA01", "966222", "Levothyroxine Sodium 0.075 MG Oral Tablet", "75 micrograms once daily before breakfast"},
    {"M05BA04", "904419", "Alendronic acid 10 MG Oral Tablet", "10 mg once daily before breakfast, upright"},
    {"M04AA01", "197319", "Allopurinol 100 MG Oral Tablet", "100 mg once daily, titrated to serum urate"},
    {"M04AC01", "197541", "Colchicine 0.6 MG Oral Tablet", "0.6 mg twice daily during a flare"},

    // Respiratory and allergy.
    {"R03AC02", "2123111", "NDA020503 200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
     "2 puffs every 4 to 6 hours as needed for wheeze"},
    {"R03BA05", "895994", "120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
     "2 puffs twice daily"},
    {"R03AK06", "896209",
     "60 ACTUAT Fluticasone propionate 0.25 MG/ACTUAT / salmeterol 0.05 MG/ACTUAT Dry Powder Inhaler",
     "1 inhalation twice daily"},
    {"H02AB07", "312617", "predniSONE 5 MG Oral Tablet", "5 mg once daily in the morning"},
    {"R06AX13", "665078", "Loratadine 5 MG Chewable Tablet", "10 mg once daily"},
    {"R06AE07", "1014676", "cetirizine hydrochloride 5 MG Oral Tablet", "10 mg once daily"},
    {"R06AX26", "997488", "Fexofenadine hydrochloride 30 MG Oral Tablet", "60 mg twice daily"},
    {"R06AA02", "1049630", "diphenhydrAMINE Hydrochloride 25 MG Oral Tablet", "25 mg every 6 hours as needed"},
    {"D07AA02", "106258", "Hydrocortisone 10 MG/ML Topical Cream", "apply thinly to affected skin twice daily"},

    // Pain and musculoskeletal.
    {"N02BE01", "198440", "Acetaminophen 500 MG Oral Tablet", "1000 mg every 6 hours as needed, at most 4 g a day"},
    {"M01AE01", "310965", "Ibuprofen 200 MG Oral Tablet", "400 mg every 6 to 8 hours as needed with food"},
    {"M01AE02", "198014", "Naproxen 500 MG Oral Tablet", "500 mg twice daily with food"},
    {"N02AX02", "835603", "tramadol hydrochloride 50 MG Oral Tablet", "50 mg every 6 hours as needed for pain"},
    {"N02AB03", "245134", "72 HR Fentanyl 0.025 MG/HR Transdermal System",
     "1 patch (25 micrograms/hour) every 72 hours"},
    {"N03AX16", "483438", "pregabalin 100 MG Oral Capsule", "100 mg twice daily"},
    {"L04AX03", "105585", "Methotrexate 2.5 MG Oral Tablet", "15 mg once weekly"},
    {"P01BA02", "979092", "Hydroxychloroquine Sulfate 200 MG Oral Tablet", "200 mg twice daily"},

    // Nervous system and mental health.
    {"N06AB03", "310385", "FLUoxetine 20 MG Oral Capsule", "20 mg once daily in the morning"},
    {"N06DA02", "997223", "Donepezil hydrochloride 10 MG Oral Tablet", "10 mg once daily at bedtime"},
    {"N06DA04", "310436", "Galantamine 4 MG Oral Tablet", "4 mg twice daily with meals"},
    {"N06DX01", "996740", "Memantine hydrochloride 2 MG/ML Oral Solution", "10 mg (5 mL) twice daily"},
    {"N03AX14", "311289", "levetiracetam 500 MG Oral Tablet", "500 mg twice daily"},
    {"N07BC51", "351266", "buprenorphine 2 MG / naloxone 0.5 MG Sublingual Tablet",
     "4 tablets (8 mg / 2 mg) under the tongue once daily"},

    // Anti-infectives.
    {"J01CA04", "308192", "Amoxicillin 500 MG Oral Tablet", "500 mg three times daily for 7 days"},
    {"J01CR02", "562251", "Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet",
     "1 tablet three times daily for 7 days"},
    {"J01CE02", "834102", "Penicillin V Potassium 500 MG Oral Tablet", "500 mg four times daily for 10 days"},
    {"J01DC02", "309097", "Cefuroxime 250 MG Oral Tablet", "250 mg twice daily for 7 days"},
    {"J01XE01", "311989", "Nitrofurantoin 5 MG/ML Oral Suspension", "50 mg (10 mL) four times daily for 5 days"},
    {"J01CR05", "1659131", "piperacillin 2000 MG / tazobactam 250 MG Injection", "2.25 g intravenously every 6 hours"},
    {"J01XA01", "1807513", "vancomycin 1000 MG Injection", "15 mg/kg intravenously every 12 hours"},

    // Urology, blood, contraception.
    {"G04BX06", "1094107", "Phenazopyridine hydrochloride 100 MG Oral Tablet", "100 mg three times daily for 2 days"},
    {"G04CA02", "863669", "tamsulosin hydrochloride 0.4 MG Oral Capsule", "0.4 mg once daily after the same meal"},
    {"B03AA07", "310325", "ferrous sulfate 325 MG Oral Tablet", "325 mg once daily"},
    {"B03BA01", "2001499", "Vitamin B 12 5 MG/ML Injectable Solution", "1 mg intramuscularly once a month"},
    {"G03AC08", "389221", "Etonogestrel 68 MG Drug Implant", "1 implant under the skin of the upper arm, for 3 years"},
    {"G03AC06", "1000126", "1 ML medroxyprogesterone acetate 150 MG/ML Injection",
     "150 mg intramuscularly every 12 weeks"},

    // Cancer.
    {"L02BG03", "199224", "anastrozole 1 MG Oral Tablet", "1 mg once daily"},
    {"L02AE02", "752899", "0.25 ML Leuprolide Acetate 30 MG/ML Prefilled Syringe",
     "7.5 mg subcutaneously once a month"},
    {"L01CD01", "583214", "PACLitaxel 100 MG Injection", "175 mg/m2 intravenously every 3 weeks"},
    {"L01CD02", "1860480", "1 ML DOCEtaxel 20 MG/ML Injection", "75 mg/m2 intravenously every 3 weeks"},
    {"L01XA01", "1736854", "Cisplatin 50 MG Injection", "75 mg/m2 intravenously every 3 weeks"},
    {"L01CB01", "1734340", "Etoposide 100 MG Injection", "100 mg/m2 intravenously on days 1 to 3 every 3 weeks"},
    {"L01XA03", "1736776", "10 ML oxaliplatin 5 MG/ML Injection", "85 mg/m2 intravenously every 2 weeks"},
    {"V03AF03", "1803932", "Leucovorin 100 MG Injection", "400 mg/m2 intravenously every 2 weeks"},
};

// --- Laboratory tests ---------------------------------------------------------------------
// loinc, display, unit, reference low/high, critical low/high (0: none), decimals, panel.
constexpr LabDef kLabs[] = {
    // Comprehensive metabolic panel (serum or plasma).
    {"2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 70, 99, 40, 500, 0, "24323-8"},
    {"3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", 7, 20, 0, 0, 0, "24323-8"},
    {"2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.6, 1.3, 0, 0, 2, "24323-8"},
    {"2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 135, 145, 120, 160, 0, "24323-8"},
    {"2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.1, 2.8, 6.2, 1, "24323-8"},
    {"2075-0", "Chloride [Moles/volume] in Serum or Plasma", "mmol/L", 98, 107, 80, 120, 0, "24323-8"},
    {"2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "mmol/L", 22, 29, 10, 40, 0, "24323-8"},
    {"17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 8.6, 10.3, 6.0, 13.0, 1, "24323-8"},
    {"2885-2", "Protein [Mass/volume] in Serum or Plasma", "g/dL", 6.0, 8.3, 0, 0, 1, "24323-8"},
    {"1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL", 3.5, 5.0, 0, 0, 1, "24323-8"},
    {"1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL", 0.1, 1.2, 0, 0, 1, "24323-8"},
    {"6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 40, 130, 0, 0, 0,
     "24323-8"},
    {"1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 7, 56, 0, 0, 0,
     "24323-8"},
    {"1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 10, 40, 0, 0, 0,
     "24323-8"},
    {"33914-3", "Glomerular filtration rate/1.73 sq M.predicted", "mL/min/{1.73_m2}", 60, 150, 0, 0, 0, "24323-8"},

    // Basic metabolic panel (blood).
    {"2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 70, 99, 40, 500, 0, "51990-0"},
    {"6299-2", "Urea nitrogen [Mass/volume] in Blood", "mg/dL", 7, 20, 0, 0, 0, "51990-0"},
    {"38483-4", "Creatinine [Mass/volume] in Blood", "mg/dL", 0.6, 1.3, 0, 0, 2, "51990-0"},
    {"2947-0", "Sodium [Moles/volume] in Blood", "mmol/L", 135, 145, 120, 160, 0, "51990-0"},
    {"6298-4", "Potassium [Moles/volume] in Blood", "mmol/L", 3.5, 5.1, 2.8, 6.2, 1, "51990-0"},
    {"2069-3", "Chloride [Moles/volume] in Blood", "mmol/L", 98, 107, 80, 120, 0, "51990-0"},
    {"20565-8", "Carbon dioxide, total [Moles/volume] in Blood", "mmol/L", 22, 29, 10, 40, 0, "51990-0"},
    {"49765-1", "Calcium [Mass/volume] in Blood", "mg/dL", 8.6, 10.3, 6.0, 13.0, 1, "51990-0"},

    // Complete blood count.
    {"6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 4.5, 11.0, 2.0, 30.0, 1, "58410-2"},
    {"789-8", "Erythrocytes [#/volume] in Blood by Automated count", "10*6/uL", 4.2, 5.9, 0, 0, 2, "58410-2"},
    {"718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.0, 17.5, 7.0, 20.0, 1, "58410-2"},
    {"4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "%", 36, 50, 20, 60, 1, "58410-2"},
    {"787-2", "MCV [Entitic volume] by Automated count", "fL", 80, 100, 0, 0, 1, "58410-2"},
    {"785-6", "MCH [Entitic mass] by Automated count", "pg", 27, 33, 0, 0, 1, "58410-2"},
    {"786-4", "MCHC [Mass/volume] by Automated count", "g/dL", 32, 36, 0, 0, 1, "58410-2"},
    {"788-0", "Erythrocyte distribution width [Ratio] by Automated count", "%", 11.5, 14.5, 0, 0, 1, "58410-2"},
    {"777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 150, 400, 20, 1000, 0, "58410-2"},

    // Lipid panel.
    {"2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 100, 199, 0, 0, 0, "57698-3"},
    {"18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "mg/dL", 0, 129, 0, 0, 0,
     "57698-3"},
    {"2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL", 40, 100, 0, 0, 0, "57698-3"},
    {"2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", 0, 149, 0, 1000, 0, "57698-3"},

    // Coagulation and cardiac.
    {"5902-2", "Prothrombin time (PT)", "s", 11.0, 13.5, 0, 0, 1, "34528-0"},
    {"6301-6", "INR in Platelet poor plasma by Coagulation assay", "{INR}", 0.8, 1.2, 0, 5.0, 1, "34528-0"},
    {"89579-7", "Troponin I.cardiac [Mass/volume] in Serum or Plasma by High sensitivity method", "pg/mL", 0, 26, 0, 52,
     1, "89577-1"},
    {"33762-6", "Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma", "pg/mL", 0, 125, 0, 0,
     0, "33762-6"},
    {"48065-7", "Fibrin D-dimer FEU [Mass/volume] in Platelet poor plasma", "ug/mL", 0, 0.5, 0, 0, 2, "48065-7"},

    // Single tests, each its own panel.
    {"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4.0, 5.6, 0, 0, 1, "4548-4"},
    {"3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L", 0.4, 4.0, 0, 0, 2, "3016-3"},
    {"3024-7", "Thyroxine (T4) free [Mass/volume] in Serum or Plasma", "ng/dL", 0.8, 1.8, 0, 0, 2, "3024-7"},
    {"2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma", "ng/mL", 0, 4.0, 0, 0, 2, "2857-1"},
    {"1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", 0, 5.0, 0, 0, 1, "1988-5"},
    {"30341-2", "Erythrocyte sedimentation rate", "mm/h", 0, 20, 0, 0, 0, "30341-2"},
    {"62292-8", "25-Hydroxyvitamin D2+D3 [Mass/volume] in Serum or Plasma", "ng/mL", 30, 100, 0, 0, 1, "62292-8"},
    {"2276-4", "Ferritin [Mass/volume] in Serum or Plasma", "ng/mL", 20, 300, 0, 0, 0, "2276-4"},
    {"2132-9", "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma", "pg/mL", 200, 900, 0, 0, 0, "2132-9"},
    {"3084-1", "Urate [Mass/volume] in Serum or Plasma", "mg/dL", 3.5, 7.2, 0, 0, 1, "3084-1"},
    {"19123-9", "Magnesium [Mass/volume] in Serum or Plasma", "mg/dL", 1.7, 2.2, 1.0, 4.7, 1, "19123-9"},
    {"14959-1", "Microalbumin/Creatinine [Mass Ratio] in Urine", "mg/g", 0, 29, 0, 0, 1, "14959-1"},

    // Urinalysis (dipstick).
    {"5811-5", "Specific gravity of Urine by Test strip", "", 1.005, 1.030, 0, 0, 3, "24357-6"},
    {"5803-2", "pH of Urine by Test strip", "[pH]", 5.0, 8.0, 0, 0, 1, "24357-6"},
    {"5804-0", "Protein [Mass/volume] in Urine by Test strip", "mg/dL", 0, 14, 0, 0, 0, "24357-6"},
    {"5792-7", "Glucose [Mass/volume] in Urine by Test strip", "mg/dL", 0, 15, 0, 0, 0, "24357-6"},
    {"5797-6", "Ketones [Mass/volume] in Urine by Test strip", "mg/dL", 0, 5, 0, 0, 0, "24357-6"},
};

// --- Panels -------------------------------------------------------------------------------
// loinc, display, CPT, OPS ("" for laboratory tests).
constexpr PanelDef kPanels[] = {
    {"24323-8", "Comprehensive metabolic 2000 panel - Serum or Plasma", "80053", ""},
    {"51990-0", "Basic metabolic panel - Blood", "80048", ""},
    // 85027: CBC without differential, as the panel holds no differential count.
    {"58410-2", "Complete blood count (hemogram) panel - Blood by Automated count", "85027", ""},
    {"57698-3", "Lipid panel with direct LDL - Serum or Plasma", "80061", ""},
    {"34528-0", "PT panel - Platelet poor plasma by Coagulation assay", "85610", ""},
    {"89577-1", "Troponin I.cardiac panel - Serum or Plasma by High sensitivity method", "84484", ""},
    // 81003: automated dipstick urinalysis without microscopy.
    {"24357-6", "Urinalysis macro (dipstick) panel - Urine", "81003", ""},
    {"33762-6", "Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma", "83880", ""},
    {"48065-7", "Fibrin D-dimer FEU [Mass/volume] in Platelet poor plasma", "85379", ""},
    {"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "83036", ""},
    {"3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "84443", ""},
    {"3024-7", "Thyroxine (T4) free [Mass/volume] in Serum or Plasma", "84439", ""},
    {"2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma", "84153", ""},
    {"1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "86140", ""},
    {"30341-2", "Erythrocyte sedimentation rate", "85652", ""},
    {"62292-8", "25-Hydroxyvitamin D2+D3 [Mass/volume] in Serum or Plasma", "82306", ""},
    {"2276-4", "Ferritin [Mass/volume] in Serum or Plasma", "82728", ""},
    {"2132-9", "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma", "82607", ""},
    {"3084-1", "Urate [Mass/volume] in Serum or Plasma", "84550", ""},
    {"19123-9", "Magnesium [Mass/volume] in Serum or Plasma", "83735", ""},
    {"14959-1", "Microalbumin/Creatinine [Mass Ratio] in Urine", "82043", ""},
};

// --- Vital signs --------------------------------------------------------------------------
// loinc, display, unit, adult mean, sd, normal low/high, decimals.
constexpr VitalDef kVitals[] = {
    {"8867-4", "Heart rate", "/min", 75, 12, 60, 100, 0},
    {"9279-1", "Respiratory rate", "/min", 16, 2, 12, 20, 0},
    {"8310-5", "Body temperature", "Cel", 36.8, 0.3, 36.1, 37.5, 1},
    {"29463-7", "Body weight", "kg", 78, 16, 40, 150, 1},
    {"8302-2", "Body height", "cm", 170, 10, 145, 200, 1},
    {"39156-5", "Body mass index", "kg/m2", 27, 5, 18.5, 25, 1},
    {"8480-6", "Systolic blood pressure", "mm[Hg]", 124, 15, 90, 120, 0},
    {"8462-4", "Diastolic blood pressure", "mm[Hg]", 78, 10, 60, 80, 0},
    {"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 97.5, 1.5, 95, 100, 0},
    {"72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported", "{score}", 2, 2, 0, 3, 0},
};

// --- Immunisations ------------------------------------------------------------------------
// cvx, display, SNOMED product ("" when not given), ages from/to, every N years (0: once).
// A multi-dose infant series is approximated by a yearly or two-yearly repeat over its ages.
constexpr ImmunizationDef kImmunizations[] = {
    {"08", "Hep B, adolescent or pediatric", "", 0, 1, 1},
    {"119", "rotavirus, monovalent", "", 0, 0, 0},
    {"20", "DTaP", "", 0, 6, 2},
    {"10", "IPV", "", 0, 6, 2},
    {"49", "Hib (PRP-OMP)", "", 0, 1, 1},
    {"133", "Pneumococcal conjugate PCV 13", "", 0, 1, 1},
    {"03", "MMR", "", 1, 6, 5},
    {"21", "varicella", "", 1, 6, 5},
    {"83", "Hep A, ped/adol, 2 dose", "", 1, 2, 1},
    {"140", "Influenza, seasonal, injectable, preservative free", "", 0, 120, 1},
    {"115", "Tdap", "", 11, 12, 0},
    {"62", "HPV, quadrivalent", "", 11, 12, 1},
    {"114", "meningococcal MCV4P", "", 11, 16, 5},
    {"113", "Td (adult) preservative free", "", 21, 120, 10},
    {"33", "pneumococcal polysaccharide vaccine, 23 valent", "", 65, 120, 0},
    {"187", "zoster recombinant", "", 50, 120, 0},
    {"208", "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose", "", 12,
     120, 1},
};

// --- Procedures ---------------------------------------------------------------------------
// snomed, display, CPT, OPS, reason condition ("" screening), screening ages, interval, inpatient.
constexpr ProcedureDef kProcedures[] = {
    // Screening.
    {"73761001", "Colonoscopy", "45378", "1-650.2", "", 50, 75, 10, kOutpatient},
    {"71651007", "Mammography", "77067", "", "", 50, 74, 2, kOutpatient, Sex::kFemale},
    {"90226004", "Cytopathology procedure, preparation of smear, genital source", "88142", "", "", 25, 65, 3,
     kOutpatient, Sex::kFemale},
    {"312681000", "Bone density scan", "77080", "3-900", "", 65, 85, 2, kOutpatient, Sex::kFemale},
    {"104435004", "Screening for occult blood in feces", "82274", "", "", 50, 75, 2, kOutpatient},
    {"171207006", "Depression screening", "96127", "", "", 12, 85, 1, kOutpatient},
    {"398171003", "Hearing examination", "92551", "", "", 4, 18, 2, kOutpatient},

    // Diagnostics for a condition.
    {"29303009", "Electrocardiographic procedure", "93000", "", "49436004", 0, 0, 0, kOutpatient},
    {"40701008", "Echocardiography", "93306", "", "88805009", 0, 0, 0, kOutpatient},
    {"399208008", "Plain chest X-ray", "71046", "", "233604007", 0, 0, 0, kOutpatient},
    {"127783003", "Spirometry", "94010", "", "185086009", 0, 0, 0, kOutpatient},
    {"16335031000119103", "High resolution computed tomography of chest without contrast", "71250", "3-202",
     "254637007", 0, 0, 0, kOutpatient},
    {"432231006", "Fine needle aspiration biopsy of lung", "32405", "", "254637007", 0, 0, 0, kOutpatient},
    {"65575008", "Biopsy of prostate", "55700", "", "399068003", 0, 0, 0, kOutpatient},
    {"117015009", "Throat culture", "87081", "", "43878008", 0, 0, 0, kOutpatient},
    {"117010004", "Urine culture", "87086", "", "38822007", 0, 0, 0, kOutpatient},
    {"19490002", "Ankle X-ray", "73600", "", "16114001", 0, 0, 0, kOutpatient},
    {"74016001", "Knee X-ray", "73560", "", "239720000", 0, 0, 0, kOutpatient},
    {"252160004", "Standard pregnancy test", "81025", "", "72892002", 0, 0, 0, kOutpatient},
    {"169230002", "Ultrasound scan for fetal viability", "76801", "", "72892002", 0, 0, 0, kOutpatient},

    // Treatment.
    {"80146002", "Appendectomy", "44970", "5-470.11", "74400008", 0, 0, 0, kInpatient},
    {"38102005", "Cholecystectomy", "47562", "5-511.11", "235919008", 0, 0, 0, kInpatient},
    {"415070008", "Percutaneous coronary intervention", "92928", "8-837.00", "22298006", 0, 0, 0, kInpatient},
    {"232717009", "Coronary artery bypass grafting", "33533", "", "53741008", 0, 0, 0, kInpatient},
    {"180325003", "Electrical cardioversion", "92960", "8-640.0", "49436004", 0, 0, 0, kOutpatient},
    {"18286008", "Catheter ablation of tissue of heart", "93656", "", "49436004", 0, 0, 0, kInpatient},
    {"52734007", "Total hip replacement", "27130", "5-820.00", "239872002", 0, 0, 0, kInpatient},
    {"609588000", "Total knee replacement", "27447", "5-822.g1", "239873007", 0, 0, 0, kInpatient},
    {"392021009", "Lumpectomy of breast", "19301", "", "254837009", 0, 0, 0, kOutpatient},
    {"90470006", "Prostatectomy", "55840", "", "399068003", 0, 0, 0, kInpatient},
    {"43075005", "Partial resection of colon", "44140", "", "363406005", 0, 0, 0, kInpatient},
    {"274031008", "Rectal polypectomy", "", "", "68496003", 0, 0, 0, kOutpatient},
    {"180207008", "Intravenous blood transfusion of packed cells", "36430", "8-800.c0", "271737000", 0, 0, 0,
     kOutpatient},
    {"11466000", "Cesarean section", "59514", "5-749.10", "72892002", 0, 0, 0, kInpatient},
    {"66348005", "Childbirth", "59409", "9-260", "72892002", 0, 0, 0, kInpatient},
    {"288086009", "Suture open wound", "12001", "", "283371005", 0, 0, 0, kOutpatient},
    {"274474001", "Bone immobilization", "", "", "65966004", 0, 0, 0, kOutpatient},
    {"65546002", "Extraction of wisdom tooth", "", "", "196416002", 0, 0, 0, kOutpatient},
    {"180256009", "Subcutaneous immunotherapy", "95115", "", "367498001", 0, 0, 0, kOutpatient},
    {"228557008", "Cognitive and behavioral therapy", "90834", "", "370143000", 0, 0, 0, kOutpatient},
};

// --- Allergies ----------------------------------------------------------------------------
// snomed, display, category, prevalence, reaction manifestation code and display.
constexpr AllergyDef kAllergies[] = {
    {"91936005", "Allergy to penicillin", "medication", 0.08, "271807003", "Eruption of skin"},
    {"91939003", "Allergy to sulfonamide", "medication", 0.03, "271807003", "Eruption of skin"},
    {"91935009", "Allergy to peanuts", "food", 0.015, "39579001", "Anaphylaxis"},
    {"91934008", "Allergy to nut", "food", 0.02, "247472004", "Hives"},
    {"300913006", "Shellfish allergy", "food", 0.02, "247472004", "Hives"},
    {"417532002", "Allergy to fish", "food", 0.005, "247472004", "Hives"},
    {"91930004", "Allergy to eggs", "food", 0.01, "271807003", "Eruption of skin"},
    {"420174000", "Allergy to wheat", "food", 0.005, "247472004", "Hives"},
    {"714035009", "Allergy to soya", "food", 0.004, "247472004", "Hives"},
    {"419263009", "Allergy to tree pollen", "environment", 0.08, "878820003", "Rhinoconjunctivitis"},
    {"418689008", "Allergy to grass pollen", "environment", 0.12, "878820003", "Rhinoconjunctivitis"},
    {"232350006", "House dust mite allergy", "environment", 0.10, "878820003", "Rhinoconjunctivitis"},
    {"232347008", "Dander (animal) allergy", "environment", 0.08, "878820003", "Rhinoconjunctivitis"},
    {"419474003", "Allergy to mould", "environment", 0.05, "267036007", "Dyspnea"},
    {"300916003", "Latex allergy", "environment", 0.01, "247472004", "Hives"},
    {"424213003", "Allergy to bee venom", "environment", 0.01, "39579001", "Anaphylaxis"},
};

// --- Symptoms -----------------------------------------------------------------------------
// snomed, display, phrase.
constexpr SymptomDef kSymptoms[] = {
    // General.
    {"386661006", "Fever", "fever"},
    {"43724002", "Chill", "chills"},
    {"84229001", "Fatigue", "fatigue"},
    {"79890006", "Loss of appetite", "loss of appetite"},
    {"89362005", "Weight loss", "weight loss"},
    {"17173007", "Excessive thirst", "excessive thirst"},
    {"193462001", "Insomnia", "difficulty sleeping"},
    // Respiratory and ENT.
    {"49727002", "Cough", "cough"},
    {"248595008", "Sputum finding", "sputum production"},
    {"66857006", "Hemoptysis", "coughing up blood"},
    {"267036007", "Dyspnea", "shortness of breath"},
    {"56018004", "Wheezing", "wheezing"},
    {"267102003", "Sore throat symptom", "sore throat"},
    {"68235000", "Nasal congestion", "nasal congestion"},
    {"64531003", "Nasal discharge", "runny nose"},
    {"76067001", "Sneezing", "sneezing"},
    {"16001004", "Otalgia", "ear pain"},
    {"36955009", "Loss of taste", "loss of taste"},
    // Cardiovascular.
    {"29857009", "Chest pain", "chest pain"},
    {"80313002", "Palpitations", "palpitations"},
    {"267038008", "Edema", "swelling of the ankles"},
    {"271594007", "Syncope", "fainting"},
    // Digestive.
    {"21522001", "Abdominal pain", "abdominal pain"},
    {"422587007", "Nausea", "nausea"},
    {"249497008", "Vomiting symptom", "vomiting"},
    {"267060006", "Diarrhea symptom", "diarrhea"},
    {"14760008", "Constipation", "constipation"},
    {"16331000", "Heartburn", "heartburn"},
    // Urinary.
    {"49650001", "Dysuria", "pain on passing urine"},
    {"162116003", "Increased frequency of urination", "passing urine more often"},
    {"34436003", "Blood in urine", "blood in the urine"},
    // Musculoskeletal and skin.
    {"57676002", "Joint pain", "joint pain"},
    {"68962001", "Muscle pain", "muscle aches"},
    {"161891005", "Backache", "back pain"},
    {"81680005", "Neck pain", "neck pain"},
    {"271807003", "Eruption of skin", "rash"},
    {"418290006", "Itching", "itching"},
    // Neurological and mental.
    {"25064002", "Headache", "headache"},
    {"404640003", "Dizziness", "dizziness"},
    {"26544005", "Muscle weakness", "weakness"},
    {"26079004", "Tremor", "tremor"},
    {"91175000", "Seizure", "seizures"},
    {"386807006", "Memory impairment", "memory problems"},
    {"366979004", "Depressed mood", "low mood"},
    {"48694002", "Anxiety", "feeling anxious"},
};

// --- Visit types --------------------------------------------------------------------------
// snomed, display, CPT evaluation and management code.
constexpr VisitTypeDef kVisitTypes[] = {
    {"162673000", "General examination of patient", "99395"},
    {"185349003", "Encounter for check up", "99213"},
    {"410620009", "Well child visit", "99392"},
    {"185345009", "Encounter for symptom", "99213"},
    {"185347001", "Encounter for problem", "99214"},
    {"390906007", "Follow-up encounter", "99213"},
    {"424441002", "Prenatal initial visit", "99204"},
    {"424619006", "Prenatal visit", "99213"},
    {"50849002", "Emergency room admission", "99283"},
    {"32485007", "Hospital admission", "99222"},
};

}  // namespace

std::span<const ConditionDef> Conditions() { return kConditions; }
std::span<const MedicationDef> Medications() { return kMedications; }
std::span<const LabDef> Labs() { return kLabs; }
std::span<const PanelDef> Panels() { return kPanels; }
std::span<const VitalDef> Vitals() { return kVitals; }
std::span<const ImmunizationDef> Immunizations() { return kImmunizations; }
std::span<const ProcedureDef> Procedures() { return kProcedures; }
std::span<const AllergyDef> Allergies() { return kAllergies; }
std::span<const SymptomDef> Symptoms() { return kSymptoms; }
std::span<const VisitTypeDef> VisitTypes() { return kVisitTypes; }

}  // namespace ehr::synth
