// Locale data for the population generator: the four regions' first names, surnames, cities,
// streets, telephone and postcode formats, hospital and practice name patterns and population
// pyramids.
//
// Sources (name lists are facts, written from knowledge of these publications; orders are
// approximate, most common in the living population first, so that a draw that ignores age
// still gives a plausible mix of generations):
//   UK: ONS "Baby names in England and Wales" (1904-2022 historic top-100 tables and the
//       annual releases), National Records of Scotland baby names; surname frequencies from the
//       ONS/"Surnames of Great Britain" counts (Smith, Jones, Williams, Taylor, Brown, ...);
//       Royal Mail postcode areas and districts; Ofcom UK National Telephone Numbering Plan
//       (geographic area codes, 07 mobile range); ONS mid-2022 population estimates.
//   DE: Gesellschaft für deutsche Sprache (GfdS) annual first-name lists and historic
//       Vornamen statistics, Knud Bielefeld's frequency tables; surname frequencies from the
//       Duden Familiennamen / telephone directory counts (Müller, Schmidt, Schneider, ...);
//       Deutsche Post Postleitzahlen; Bundesnetzagentur Ortsnetzkennzahlen and mobile
//       prefixes (015x/016x/017x); Destatis Bevölkerungsstand 31.12.2022 (Altersjahre).
//   FR: INSEE "Fichier des prénoms" (1900-2022); INSEE/Geopatronyme surname counts (Martin,
//       Bernard, Thomas, Petit, ...); La Poste codes postaux; ARCEP plan de numérotation
//       (01-05 geographic zones, 06/07 mobile); INSEE pyramide des âges au 1er janvier 2023.
//   US: SSA "Top names over the last 100 years" and yearly popular baby names; US Census
//       Bureau 2010 surname list (Smith, Johnson, Williams, Brown, ...; written without
//       diacritics as the Census publishes them); USPS 3-digit ZIP prefixes; NANPA area
//       codes; Census Bureau Vintage 2022 population estimates by age.
// Populations (City.weight, thousands) are rounded recent municipal figures (for London,
// Berlin and Paris the city proper).
#include "synth/locale.h"

namespace ehr::synth {

namespace {

// Plain tables, laid out by hand: several entries a line.
// clang-format off

// ---------------------------------------------------------------------------------------------
// United Kingdom

constexpr const char* kUkMale[] = {
    "David", "John", "Michael", "Paul", "Andrew", "James", "Peter", "Mark", "Richard", "Robert",
    "Stephen", "Christopher", "Thomas", "Daniel", "William", "Matthew", "Ian", "Anthony", "Alan", "Simon",
    "Gary", "Martin", "Kevin", "Brian", "George", "Jack", "Oliver", "Harry", "Joshua", "Steven",
    "Jonathan", "Adam", "Philip", "Graham", "Keith", "Kenneth", "Colin", "Neil", "Stuart", "Lee",
    "Craig", "Darren", "Jason", "Samuel", "Joseph", "Benjamin", "Luke", "Ryan", "Nathan", "Liam",
    "Alexander", "Edward", "Charlie", "Henry", "Jacob", "Noah", "Leo", "Oscar", "Arthur", "Muhammad",
    "Alfie", "Freddie", "Archie", "Theo", "Ethan", "Lucas", "Isaac", "Max", "Dylan", "Callum",
    "Lewis", "Connor", "Jamie", "Scott", "Dean", "Wayne", "Nigel", "Trevor", "Roger", "Barry",
    "Malcolm", "Geoffrey", "Derek", "Raymond", "Ronald", "Roy", "Dennis", "Frank", "Gordon", "Terence",
    "Norman", "Leonard", "Stanley", "Albert", "Frederick", "Ernest", "Harold", "Gareth", "Rhys", "Owen",
    "Aaron", "Bradley", "Jordan", "Kieran", "Jake", "Reece", "Mohammed", "Toby", "Finley", "Harrison",
    "Sebastian", "Hugo", "Euan", "Hamish", "Declan", "Sean",
};

constexpr const char* kUkFemale[] = {
    "Sarah", "Margaret", "Susan", "Elizabeth", "Emma", "Helen", "Julie", "Karen", "Claire", "Patricia",
    "Mary", "Jean", "Christine", "Laura", "Emily", "Rebecca", "Lisa", "Amy", "Jessica", "Hannah",
    "Nicola", "Sophie", "Linda", "Anne", "Joanne", "Jacqueline", "Lucy", "Charlotte", "Olivia", "Amelia",
    "Gemma", "Rachel", "Victoria", "Louise", "Catherine", "Alison", "Angela", "Deborah", "Michelle", "Tracey",
    "Amanda", "Kelly", "Samantha", "Natalie", "Katie", "Lauren", "Megan", "Chloe", "Grace", "Isla",
    "Ava", "Mia", "Lily", "Sophia", "Isabella", "Freya", "Ella", "Evie", "Poppy", "Florence",
    "Ruby", "Holly", "Bethany", "Georgia", "Abigail", "Eleanor", "Daisy", "Alice", "Phoebe", "Matilda",
    "Ivy", "Rosie", "Elsie", "Willow", "Jennifer", "Caroline", "Jane", "Dawn", "Donna", "Elaine",
    "Sandra", "Gillian", "Pauline", "Valerie", "Janet", "Carol", "Barbara", "Sheila", "Brenda", "Dorothy",
    "Joan", "Doris", "Irene", "Betty", "Joyce", "Audrey", "Eileen", "Kathleen", "Maureen", "Shirley",
    "Sylvia", "Marjorie", "Edna", "Kirsty", "Siobhan", "Ffion", "Niamh", "Zara", "Aisha", "Fatima",
};

constexpr const char* kUkFamily[] = {
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
    "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
    "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen",
    "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths",
    "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy",
    "Miller", "Cox", "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh",
    "Begum", "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali",
    "Hunt", "Hussain", "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight",
    "Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey",
    "Graham", "Pearson", "Ahmed", "Fletcher", "Walsh", "Kaur", "Gibson", "Howard", "Andrews", "Stewart",
    "Elliott", "Reynolds", "Saunders", "Payne", "Fox", "Ford", "Pearce", "Day", "Brooks", "West",
    "Lawrence", "Cole", "Atkinson", "Bradley", "Spencer", "Gill", "Dawson", "Ball", "Burton", "O'Brien",
    "Watts", "Rose", "Booth", "Perry", "Ryan", "Grant", "Wells", "Armstrong", "Francis", "Rees",
    "Hayes", "Hart", "Hudson", "Newman", "Barrett", "Webster", "Hunter", "Gregory", "Carr", "Lowe",
    "Page", "Marsh", "Riley", "Dunn", "Woods", "Parsons", "Berry", "Stone", "Reid", "Holland",
    "Hawkins", "Harding", "Porter", "Robertson", "Newton", "Oliver", "Reed", "Kennedy", "Williamson", "Bird",
    "Gardner", "Shah", "Dean", "Lane", "Cooke", "Bates", "Henderson", "Parry", "Burgess", "Bishop",
    "Walton", "Burns", "Nicholson", "Shepherd", "Ross", "Hamilton", "Byrne", "McDonald", "O'Connor", "O'Neill",
    "MacLeod", "Doherty", "Quinn", "Lloyd-Jones",
};

constexpr City kUkCities[] = {
    {"London", "Greater London", "England", "SW1# #@@", "020 7### ####", 8800},
    {"Birmingham", "West Midlands", "England", "B2# #@@", "0121 ### ####", 1140},
    {"Leeds", "West Yorkshire", "England", "LS1# #@@", "0113 ### ####", 810},
    {"Glasgow", "Glasgow City", "Scotland", "G4# #@@", "0141 ### ####", 635},
    {"Sheffield", "South Yorkshire", "England", "S# #@@", "0114 ### ####", 585},
    {"Manchester", "Greater Manchester", "England", "M2# #@@", "0161 ### ####", 550},
    {"Bradford", "West Yorkshire", "England", "BD# #@@", "01274 ######", 545},
    {"Edinburgh", "City of Edinburgh", "Scotland", "EH1# #@@", "0131 ### ####", 525},
    {"Liverpool", "Merseyside", "England", "L1# #@@", "0151 ### ####", 500},
    {"Bristol", "City of Bristol", "England", "BS# #@@", "0117 ### ####", 470},
    {"Leicester", "Leicestershire", "England", "LE# #@@", "0116 ### ####", 370},
    {"Cardiff", "Cardiff", "Wales", "CF1# #@@", "029 20## ####", 365},
    {"Belfast", "County Antrim", "Northern Ireland", "BT1# #@@", "028 90## ####", 345},
    {"Coventry", "West Midlands", "England", "CV# #@@", "024 76## ####", 345},
    {"Nottingham", "Nottinghamshire", "England", "NG# #@@", "0115 ### ####", 325},
    {"Newcastle upon Tyne", "Tyne and Wear", "England", "NE# #@@", "0191 ### ####", 300},
    {"Brighton", "East Sussex", "England", "BN# #@@", "01273 ######", 280},
    {"Hull", "East Riding of Yorkshire", "England", "HU# #@@", "01482 ######", 270},
    {"Plymouth", "Devon", "England", "PL# #@@", "01752 ######", 265},
    {"Wolverhampton", "West Midlands", "England", "WV# #@@", "01902 ######", 265},
    {"Stoke-on-Trent", "Staffordshire", "England", "ST# #@@", "01782 ######", 260},
    {"Derby", "Derbyshire", "England", "DE2# #@@", "01332 ######", 260},
    {"Southampton", "Hampshire", "England", "SO1# #@@", "023 80## ####", 250},
    {"Swansea", "Swansea", "Wales", "SA# #@@", "01792 ######", 245},
    {"Milton Keynes", "Buckinghamshire", "England", "MK# #@@", "01908 ######", 230},
    {"Portsmouth", "Hampshire", "England", "PO# #@@", "023 92## ####", 210},
    {"York", "North Yorkshire", "England", "YO2# #@@", "01904 ######", 200},
    {"Aberdeen", "Aberdeen City", "Scotland", "AB1# #@@", "01224 ######", 200},
    {"Reading", "Berkshire", "England", "RG# #@@", "0118 ### ####", 175},
    {"Sunderland", "Tyne and Wear", "England", "SR# #@@", "0191 ### ####", 175},
    {"Oxford", "Oxfordshire", "England", "OX# #@@", "01865 ######", 160},
    {"Newport", "Newport", "Wales", "NP1# #@@", "01633 ######", 160},
    {"Dundee", "Dundee City", "Scotland", "DD# #@@", "01382 ######", 150},
    {"Cambridge", "Cambridgeshire", "England", "CB# #@@", "01223 ######", 145},
    {"Norwich", "Norfolk", "England", "NR# #@@", "01603 ######", 145},
    {"Exeter", "Devon", "England", "EX# #@@", "01392 ######", 130},
    {"Lisburn", "County Antrim", "Northern Ireland", "BT2# #@@", "028 92## ####", 75},
    {"Inverness", "Highland", "Scotland", "IV# #@@", "01463 ######", 50},
};

constexpr const char* kUkStreets[] = {
    "High Street", "Station Road", "Church Lane", "Church Street", "Main Street", "Park Road", "London Road",
    "Victoria Road", "Green Lane", "Manor Road", "Church Road", "Park Avenue", "The Avenue", "The Crescent",
    "Queens Road", "New Road", "Grange Road", "Kings Road", "Mill Lane", "School Lane", "North Street",
    "Alexandra Road", "York Road", "Springfield Road", "Windsor Road", "Stanley Road", "Albert Road",
    "Chester Road", "West Street", "Broadway", "The Green", "Highfield Road", "Mill Road", "Queen Street",
    "King Street", "George Street", "Market Street", "Bridge Street", "Water Lane", "St John's Road",
    "St Mary's Road", "Richmond Road", "Woodland Road", "The Drive", "Nelson Road", "Elm Road", "Oak Road",
    "Cedar Avenue", "Orchard Close", "Meadow Way", "Beech Grove", "Kingsway", "Westfield Road", "North Road",
    "South Street", "Charles Street", "Hill Street", "Mount Pleasant", "Bath Road", "Cromwell Road",
    "Albert Street", "Clarence Road", "Ash Grove", "Hawthorn Avenue", "Chestnut Close", "Holly Close",
    "Heath Road", "Lime Grove", "Sandy Lane", "Moor Lane", "Back Lane", "Grove Road", "Maple Avenue",
    "Willow Close", "Rectory Lane", "Vicarage Road", "Castle Street", "Cambridge Road", "Oxford Road",
    "Brook Lane",
};

constexpr const char* kUkHospitals[] = {
    "{city} General Hospital", "Royal {city} Infirmary", "{city} University Hospital", "{city} Royal Hospital",
    "St Mary's Hospital {city}", "{city} Community Hospital", "Queen Elizabeth Hospital {city}",
};

constexpr const char* kUkClinics[] = {
    "{city} Medical Centre", "The {family} Surgery", "{city} Health Centre", "The {family} Practice",
    "{family} Medical Practice", "{city} Group Practice", "Park Surgery {city}",
};

// ---------------------------------------------------------------------------------------------
// Germany

constexpr const char* kDeMale[] = {
    "Peter", "Michael", "Thomas", "Andreas", "Wolfgang", "Klaus", "Jürgen", "Stefan", "Christian", "Uwe",
    "Hans", "Werner", "Frank", "Markus", "Martin", "Alexander", "Daniel", "Bernd", "Dieter", "Manfred",
    "Horst", "Tobias", "Sebastian", "Jan", "Florian", "Matthias", "Günter", "Helmut", "Gerhard", "Heinz",
    "Rainer", "Ralf", "Jörg", "Dirk", "Sven", "Torsten", "Holger", "Karl", "Walter", "Joachim",
    "Lukas", "Felix", "Maximilian", "Leon", "Paul", "Jonas", "Ben", "Finn", "Noah", "Elias",
    "Luca", "Tim", "Niklas", "Julian", "Philipp", "David", "Simon", "Kevin", "Dennis", "Marcel",
    "Patrick", "Oliver", "Carsten", "Jens", "Volker", "Norbert", "Reinhard", "Detlef", "Lothar", "Gerd",
    "Kurt", "Herbert", "Friedrich", "Hermann", "Ernst", "Wilhelm", "Heinrich", "Otto", "Rolf", "Siegfried",
    "Karl-Heinz", "Hans-Peter", "Jochen", "Björn", "Lars", "Nils", "Fabian", "Dominik", "Marco", "Johannes",
    "Moritz", "Jakob", "Emil", "Anton", "Theo", "Henry", "Matteo", "Luis", "Erik", "Till",
    "Hannes", "Ole", "Mehmet", "Mustafa", "Ali",
};

constexpr const char* kDeFemale[] = {
    "Ursula", "Sabine", "Monika", "Petra", "Andrea", "Claudia", "Susanne", "Maria", "Renate", "Karin",
    "Birgit", "Helga", "Gabriele", "Brigitte", "Ingrid", "Stefanie", "Nicole", "Julia", "Anna", "Katharina",
    "Christina", "Sandra", "Melanie", "Anja", "Heike", "Martina", "Elisabeth", "Sarah", "Laura", "Lisa",
    "Lena", "Hannah", "Emma", "Mia", "Lea", "Sophie", "Marie", "Leonie", "Johanna", "Charlotte",
    "Emilia", "Sophia", "Lina", "Mila", "Ella", "Clara", "Amelie", "Luisa", "Frieda", "Ida",
    "Greta", "Paula", "Jana", "Vanessa", "Jennifer", "Jessica", "Nadine", "Daniela", "Tanja", "Katrin",
    "Kerstin", "Silke", "Simone", "Manuela", "Anke", "Cornelia", "Angelika", "Barbara", "Doris", "Bärbel",
    "Dagmar", "Ute", "Erika", "Elke", "Christa", "Gisela", "Marianne", "Hildegard", "Gertrud", "Irmgard",
    "Inge", "Waltraud", "Edith", "Margarete", "Hannelore", "Anneliese", "Rosemarie", "Lieselotte", "Ilse",
    "Käthe", "Gerda", "Eva", "Franziska", "Miriam", "Carina", "Svenja", "Maike", "Jasmin", "Elif",
    "Zeynep", "Marlene", "Pia", "Antonia", "Nele",
};

constexpr const char* kDeFamily[] = {
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
    "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
    "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
    "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz",
    "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin",
    "Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich",
    "Brandt", "Haas", "Schreiber", "Graf", "Schulte", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl",
    "Engel", "Horn", "Busch", "Bergmann", "Thomas", "Voigt", "Sauer", "Arnold", "Wolff", "Pfeiffer",
    "Ernst", "Lindner", "Hübner", "Kramer", "Franz", "Beyer", "Peter", "Jansen", "Kern", "Götz",
    "Ritter", "Thiel", "Kaufmann", "Brinkmann", "Haase", "Böttcher", "Schwab", "Schütz", "Wendt", "Sturm",
    "Marx", "Kolb", "Stark", "Lenz", "Hein", "Hauser", "Wilhelm", "Ebert", "Maurer", "Schilling",
    "Reuter", "Thiele", "Fritz", "Bock", "Schramm", "Kraft", "Nagel", "Gerlach", "Witt", "Meißner",
    "Kirchner", "Schenk", "Ulrich", "Walther", "Mohr", "Blum", "Seifert", "Fiedler", "Hoppe", "Hesse",
    "Jahn", "Menzel", "Schütze", "Unger", "Voß", "Lutz", "Bender", "Wirth", "Dittrich", "Kurz",
    "Keßler", "Heß", "Langer", "Petersen", "Yılmaz", "Kaya", "Nowak", "Kowalski", "Özdemir", "von Berg",
};

constexpr City kDeCities[] = {
    {"Berlin", "Berlin", "Berlin", "10###", "030 ########", 3750},
    {"Hamburg", "Hamburg", "Hamburg", "221##", "040 ########", 1900},
    {"München", "München", "Bayern", "80###", "089 ########", 1510},
    {"Köln", "Köln", "Nordrhein-Westfalen", "509##", "0221 #######", 1080},
    {"Frankfurt am Main", "Frankfurt am Main", "Hessen", "603##", "069 ########", 775},
    {"Stuttgart", "Stuttgart", "Baden-Württemberg", "704##", "0711 #######", 630},
    {"Düsseldorf", "Düsseldorf", "Nordrhein-Westfalen", "402##", "0211 #######", 620},
    {"Leipzig", "Leipzig", "Sachsen", "041##", "0341 #######", 600},
    {"Dortmund", "Dortmund", "Nordrhein-Westfalen", "442##", "0231 #######", 590},
    {"Essen", "Essen", "Nordrhein-Westfalen", "451##", "0201 #######", 580},
    {"Bremen", "Bremen", "Bremen", "282##", "0421 #######", 570},
    {"Dresden", "Dresden", "Sachsen", "012##", "0351 #######", 560},
    {"Hannover", "Region Hannover", "Niedersachsen", "301##", "0511 #######", 545},
    {"Nürnberg", "Nürnberg", "Bayern", "904##", "0911 #######", 525},
    {"Duisburg", "Duisburg", "Nordrhein-Westfalen", "471##", "0203 #######", 500},
    {"Bochum", "Bochum", "Nordrhein-Westfalen", "448##", "0234 #######", 365},
    {"Wuppertal", "Wuppertal", "Nordrhein-Westfalen", "422##", "0202 #######", 355},
    {"Bielefeld", "Bielefeld", "Nordrhein-Westfalen", "336##", "0521 #######", 335},
    {"Bonn", "Bonn", "Nordrhein-Westfalen", "531##", "0228 #######", 335},
    {"Münster", "Münster", "Nordrhein-Westfalen", "481##", "0251 #######", 320},
    {"Mannheim", "Mannheim", "Baden-Württemberg", "681##", "0621 #######", 315},
    {"Karlsruhe", "Karlsruhe", "Baden-Württemberg", "761##", "0721 #######", 310},
    {"Augsburg", "Augsburg", "Bayern", "861##", "0821 #######", 300},
    {"Wiesbaden", "Wiesbaden", "Hessen", "651##", "0611 #######", 280},
    {"Aachen", "Städteregion Aachen", "Nordrhein-Westfalen", "520##", "0241 #######", 250},
    {"Kiel", "Kiel", "Schleswig-Holstein", "241##", "0431 #######", 248},
    {"Magdeburg", "Magdeburg", "Sachsen-Anhalt", "391##", "0391 #######", 240},
    {"Freiburg im Breisgau", "Freiburg im Breisgau", "Baden-Württemberg", "791##", "0761 #######", 235},
    {"Mainz", "Mainz", "Rheinland-Pfalz", "551##", "06131 ######", 220},
    {"Erfurt", "Erfurt", "Thüringen", "990##", "0361 #######", 215},
    {"Rostock", "Rostock", "Mecklenburg-Vorpommern", "181##", "0381 #######", 210},
    {"Potsdam", "Potsdam", "Brandenburg", "144##", "0331 #######", 185},
    {"Saarbrücken", "Regionalverband Saarbrücken", "Saarland", "661##", "0681 #######", 180},
    {"Heidelberg", "Heidelberg", "Baden-Württemberg", "691##", "06221 ######", 160},
    {"Regensburg", "Regensburg", "Bayern", "930##", "0941 #######", 155},
    {"Würzburg", "Würzburg", "Bayern", "970##", "0931 #######", 128},
    {"Göttingen", "Landkreis Göttingen", "Niedersachsen", "370##", "0551 #######", 118},
    {"Schwerin", "Schwerin", "Mecklenburg-Vorpommern", "190##", "0385 #######", 98},
};

constexpr const char* kDeStreets[] = {
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße", "Birkenweg",
    "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße", "Goethestraße", "Jahnstraße",
    "Wiesenweg", "Gartenweg", "Amselweg", "Mühlenweg", "Feldstraße", "Buchenweg", "Lessingstraße",
    "Mühlenstraße", "Rosenstraße", "Friedhofstraße", "Poststraße", "Industriestraße", "Talstraße", "Eichenweg",
    "Erlenweg", "Parkstraße", "Am Sportplatz", "Blumenstraße", "Mozartstraße", "Wiesenstraße", "Kirchweg",
    "Drosselweg", "Beethovenstraße", "Tannenweg", "Ahornweg", "Lindenweg", "Finkenweg", "Kastanienweg",
    "Uhlandstraße", "Breslauer Straße", "Meisenweg", "Rosenweg", "Fliederweg", "Feldweg", "Friedrichstraße",
    "Wilhelmstraße", "Kantstraße", "Marktplatz", "Am Markt", "Neue Straße", "Sonnenstraße", "Brunnenstraße",
    "Kiefernweg", "Tulpenweg", "Heideweg", "Waldweg", "Am Bahnhof", "Berliner Straße", "Hamburger Straße",
    "Kölner Straße", "Frankfurter Straße", "Münchner Straße", "Rathausstraße", "Königsberger Straße",
    "Danziger Straße", "Schlossstraße", "Burgstraße", "Steinweg", "Hochstraße", "Sandweg", "Am Anger",
    "Lerchenweg", "Kapellenstraße", "Ludwigstraße", "Bismarckstraße", "Kaiserstraße", "Römerstraße",
    "Kurze Straße", "Lange Straße", "Grabenstraße", "Mittelstraße", "Holunderweg",
};

constexpr const char* kDeHospitals[] = {
    "Klinikum {city}", "Universitätsklinikum {city}", "St. Marien-Krankenhaus {city}",
    "Evangelisches Krankenhaus {city}", "Städtisches Klinikum {city}", "St. Elisabeth-Krankenhaus {city}",
    "Krankenhaus der Barmherzigen Brüder {city}",
};

constexpr const char* kDeClinics[] = {
    "Praxis Dr. {family}", "MVZ {city}", "Hausarztpraxis {family}", "Gemeinschaftspraxis Dr. {family}",
    "Praxis Dr. med. {family}", "Ärztehaus {city}", "Hausärztliches Zentrum {city}",
};

// ---------------------------------------------------------------------------------------------
// France

constexpr const char* kFrMale[] = {
    "Jean", "Pierre", "Michel", "André", "Philippe", "Alain", "Nicolas", "Christophe", "Daniel", "Patrick",
    "Bernard", "Jacques", "Éric", "Laurent", "Frédéric", "Thierry", "Stéphane", "David", "Julien", "Pascal",
    "Sébastien", "Thomas", "Claude", "René", "Olivier", "François", "Christian", "Gérard", "Louis", "Lucas",
    "Hugo", "Gabriel", "Léo", "Raphaël", "Arthur", "Jules", "Adam", "Maël", "Noah", "Nathan",
    "Théo", "Enzo", "Paul", "Tom", "Mathis", "Clément", "Maxime", "Alexandre", "Antoine", "Romain",
    "Kevin", "Quentin", "Florian", "Guillaume", "Benjamin", "Baptiste", "Anthony", "Jérémy", "Mickaël",
    "Vincent", "Cédric", "Fabrice", "Franck", "Marcel", "Roger", "Robert", "Henri", "Georges", "Maurice",
    "Lucien", "Raymond", "Guy", "Jean-Pierre", "Jean-Claude", "Jean-Luc", "Jean-François", "Jean-Marc",
    "Jean-Paul", "Serge", "Didier", "Dominique", "Gilles", "Denis", "Yves", "Joël", "Hervé", "Bruno",
    "Emmanuel", "Jérôme", "Arnaud", "Damien", "Mohamed", "Yanis", "Karim", "Samuel", "Victor", "Martin",
    "Axel", "Timéo", "Noé", "Liam", "Sacha", "Ethan", "Kylian", "Loïc", "Gaëtan", "Mathéo",
};

constexpr const char* kFrFemale[] = {
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Martine", "Christine", "Monique",
    "Nicole", "Valérie", "Sandrine", "Sophie", "Stéphanie", "Véronique", "Jacqueline", "Anne", "Céline",
    "Chantal", "Julie", "Camille", "Léa", "Manon", "Emma", "Chloé", "Sarah", "Laura", "Jeanne", "Louise",
    "Jade", "Alice", "Inès", "Lina", "Léna", "Zoé", "Juliette", "Lola", "Clara", "Mathilde", "Pauline",
    "Marine", "Océane", "Anaïs", "Audrey", "Émilie", "Élodie", "Aurélie", "Corinne", "Nadine", "Patricia",
    "Michèle", "Danielle", "Brigitte", "Annie", "Dominique", "Christiane", "Josiane", "Colette", "Simone",
    "Madeleine", "Marguerite", "Germaine", "Suzanne", "Yvonne", "Denise", "Paulette", "Odette", "Hélène",
    "Claire", "Caroline", "Virginie", "Karine", "Delphine", "Laetitia", "Charlotte", "Lucie", "Margaux",
    "Elsa", "Eva", "Agathe", "Nina", "Lou", "Ambre", "Rose", "Anna", "Mia", "Romy", "Fatima", "Yasmine",
    "Sabrina", "Amandine", "Mélanie", "Jessica", "Cécile", "Florence", "Agnès", "Béatrice", "Évelyne",
    "Ginette", "Thérèse", "Renée", "Marie-Claude", "Marie-Thérèse", "Anne-Marie", "Adèle", "Héloïse",
};

constexpr const char* kFrFamily[] = {
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
    "Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
    "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron",
    "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe",
    "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte",
    "Lopez", "Jean", "Dupuy", "Guillot", "Hubert", "Berger", "Carpentier", "Sanchez", "Dupuis", "Moulin",
    "Louis", "Deschamps", "Huet", "Vasseur", "Perez", "Boucher", "Fleury", "Royer", "Klein", "Jacquet",
    "Adam", "Paris", "Poirier", "Marty", "Aubry", "Guyot", "Carré", "Charles", "Renault", "Charpentier",
    "Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé", "Schneider", "Fernandez", "Le Gall", "Collet",
    "Léger", "Bouvier", "Julien", "Prévost", "Millet", "Perrot", "Daniel", "Le Roux", "Cousin", "Germain",
    "Breton", "Besson", "Langlois", "Rémy", "Le Goff", "Pelletier", "Lévêque", "Perrier", "Leblanc", "Barré",
    "Lebrun", "Marchal", "Weber", "Mallet", "Hamon", "Boulanger", "Jacob", "Monnier", "Michaud", "Rodriguez",
    "Guichard", "Gillet", "Étienne", "Grondin", "Poulain", "Tessier", "Chevallier", "Collin", "Chauvin",
    "Da Silva", "Bouchet", "Lemaître", "Bénard", "Maréchal", "Humbert", "Reynaud", "Antoine", "Hoarau",
    "Perret", "Barthélemy", "Cordier", "Lejeune", "Delaunay", "D'Almeida",
};

// No cities starting with a vowel or "Le": the patterns say "CHU de {city}", "Centre
// hospitalier de {city}", which would need "d'Angers" or "du Mans".
constexpr City kFrCities[] = {
    {"Paris", "Paris", "Île-de-France", "7501#", "01 ## ## ## ##", 2130},
    {"Marseille", "Bouches-du-Rhône", "Provence-Alpes-Côte d'Azur", "1300#", "04 91 ## ## ##", 870},
    {"Lyon", "Rhône", "Auvergne-Rhône-Alpes", "6900#", "04 78 ## ## ##", 520},
    {"Toulouse", "Haute-Garonne", "Occitanie", "31#00", "05 61 ## ## ##", 500},
    {"Nice", "Alpes-Maritimes", "Provence-Alpes-Côte d'Azur", "06#00", "04 93 ## ## ##", 345},
    {"Nantes", "Loire-Atlantique", "Pays de la Loire", "44#00", "02 40 ## ## ##", 320},
    {"Montpellier", "Hérault", "Occitanie", "340#0", "04 67 ## ## ##", 300},
    {"Strasbourg", "Bas-Rhin", "Grand Est", "67#00", "03 88 ## ## ##", 290},
    {"Bordeaux", "Gironde", "Nouvelle-Aquitaine", "33#00", "05 56 ## ## ##", 260},
    {"Lille", "Nord", "Hauts-de-France", "59#00", "03 20 ## ## ##", 235},
    {"Rennes", "Ille-et-Vilaine", "Bretagne", "35#00", "02 99 ## ## ##", 225},
    {"Reims", "Marne", "Grand Est", "51100", "03 26 ## ## ##", 180},
    {"Toulon", "Var", "Provence-Alpes-Côte d'Azur", "83#00", "04 94 ## ## ##", 180},
    {"Saint-Étienne", "Loire", "Auvergne-Rhône-Alpes", "42#00", "04 77 ## ## ##", 175},
    {"Grenoble", "Isère", "Auvergne-Rhône-Alpes", "38#00", "04 76 ## ## ##", 160},
    {"Dijon", "Côte-d'Or", "Bourgogne-Franche-Comté", "21000", "03 80 ## ## ##", 160},
    {"Villeurbanne", "Rhône", "Auvergne-Rhône-Alpes", "69100", "04 78 ## ## ##", 155},
    {"Nîmes", "Gard", "Occitanie", "30#00", "04 66 ## ## ##", 150},
    {"Clermont-Ferrand", "Puy-de-Dôme", "Auvergne-Rhône-Alpes", "63#00", "04 73 ## ## ##", 147},
    {"Brest", "Finistère", "Bretagne", "29200", "02 98 ## ## ##", 140},
    {"Tours", "Indre-et-Loire", "Centre-Val de Loire", "37#00", "02 47 ## ## ##", 135},
    {"Limoges", "Haute-Vienne", "Nouvelle-Aquitaine", "87#00", "05 55 ## ## ##", 130},
    {"Boulogne-Billancourt", "Hauts-de-Seine", "Île-de-France", "92100", "01 4# ## ## ##", 120},
    {"Metz", "Moselle", "Grand Est", "570#0", "03 87 ## ## ##", 120},
    {"Perpignan", "Pyrénées-Orientales", "Occitanie", "66#00", "04 68 ## ## ##", 120},
    {"Besançon", "Doubs", "Bourgogne-Franche-Comté", "25000", "03 81 ## ## ##", 120},
    {"Rouen", "Seine-Maritime", "Normandie", "76#00", "02 35 ## ## ##", 115},
    {"Caen", "Calvados", "Normandie", "14000", "02 31 ## ## ##", 107},
    {"Mulhouse", "Haut-Rhin", "Grand Est", "68#00", "03 89 ## ## ##", 105},
    {"Nancy", "Meurthe-et-Moselle", "Grand Est", "54#00", "03 83 ## ## ##", 105},
    {"Poitiers", "Vienne", "Nouvelle-Aquitaine", "86000", "05 49 ## ## ##", 90},
    {"Versailles", "Yvelines", "Île-de-France", "78000", "01 39 ## ## ##", 85},
    {"La Rochelle", "Charente-Maritime", "Nouvelle-Aquitaine", "17000", "05 46 ## ## ##", 77},
    {"Pau", "Pyrénées-Atlantiques", "Nouvelle-Aquitaine", "64000", "05 59 ## ## ##", 75},
    {"Bastia", "Haute-Corse", "Corse", "20200", "04 95 ## ## ##", 48},
};

constexpr const char* kFrStreets[] = {
    "rue de la République", "rue Victor Hugo", "rue Pasteur", "rue Jean Jaurès", "rue de l'Église",
    "place de la Mairie", "rue de la Gare", "Grande Rue", "rue du Moulin", "rue des Écoles", "rue du Château",
    "rue de Paris", "avenue Jean Jaurès", "boulevard Victor Hugo", "rue Jules Ferry", "rue Gambetta",
    "avenue de la Gare", "rue du Stade", "rue de la Mairie", "rue des Jardins", "rue Nationale",
    "rue Principale", "avenue du Général de Gaulle", "place du Général de Gaulle", "rue du Général de Gaulle",
    "rue Voltaire", "rue Carnot", "avenue Foch", "rue Émile Zola", "rue Anatole France", "rue de la Paix",
    "rue du Commerce", "rue du 8 Mai 1945", "rue du 11 Novembre", "rue de la Liberté", "rue des Lilas",
    "rue des Tilleuls", "allée des Acacias", "rue des Roses", "chemin des Vignes", "rue de la Fontaine",
    "impasse des Lilas", "place de l'Église", "rue du Marché", "place du Marché", "rue Saint-Martin",
    "rue Saint-Pierre", "rue de Verdun", "avenue de Verdun", "boulevard Gambetta", "avenue de la Libération",
    "rue de la Libération", "rue du Four", "rue des Fleurs", "rue de la Poste", "rue Molière",
    "rue Jean Moulin", "avenue Jean Moulin", "rue Georges Clemenceau", "boulevard de Strasbourg",
    "rue Lamartine", "rue Alsace-Lorraine", "rue Aristide Briand", "avenue Aristide Briand",
    "rue du Maréchal Leclerc", "avenue du Maréchal Foch", "rue des Peupliers", "rue des Chênes",
    "chemin du Moulin", "route de Paris", "route Nationale", "rue du Pont", "rue de la Croix",
    "rue Saint-Jacques", "place de la République", "boulevard de la République", "avenue de la République",
    "rue Paul Bert", "rue Édouard Vaillant", "rue Pierre Curie", "rue Marcel Pagnol",
};

constexpr const char* kFrHospitals[] = {
    "CHU de {city}", "Centre hospitalier de {city}", "Hôpital privé de {city}", "Clinique Saint-Joseph {city}",
    "Centre hospitalier régional de {city}", "Clinique du Parc {city}", "Polyclinique de {city}",
};

constexpr const char* kFrClinics[] = {
    "Cabinet médical du Dr {family}", "Maison de santé de {city}", "Centre médical {city}",
    "Cabinet du Dr {family}", "Maison médicale de {city}", "Centre de santé de {city}",
};

// ---------------------------------------------------------------------------------------------
// United States

constexpr const char* kUsMale[] = {
    "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas", "Christopher",
    "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Andrew", "Paul", "Joshua",
    "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald", "Jason", "Edward", "Jeffrey", "Ryan",
    "Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Stephen", "Larry", "Justin", "Scott", "Brandon",
    "Benjamin", "Samuel", "Gregory", "Alexander", "Patrick", "Frank", "Raymond", "Jack", "Dennis", "Jerry",
    "Tyler", "Aaron", "Jose", "Adam", "Nathan", "Henry", "Zachary", "Douglas", "Peter", "Kyle",
    "Noah", "Ethan", "Jeremy", "Walter", "Christian", "Keith", "Roger", "Terry", "Austin", "Sean",
    "Gerald", "Carl", "Harold", "Dylan", "Arthur", "Lawrence", "Jordan", "Jesse", "Bryan", "Billy",
    "Bruce", "Gabriel", "Joe", "Logan", "Alan", "Juan", "Albert", "Willie", "Elijah", "Wayne",
    "Randy", "Vincent", "Mason", "Roy", "Ralph", "Bobby", "Russell", "Bradley", "Philip", "Eugene",
    "Liam", "Oliver", "Lucas", "Mateo", "Levi", "Carlos", "Luis", "Miguel", "Aiden", "Caleb",
    "Hunter", "Cody", "Travis", "Howard", "Fred", "Clarence", "Earl",
};

constexpr const char* kUsFemale[] = {
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
    "Lisa", "Nancy", "Betty", "Sandra", "Margaret", "Ashley", "Kimberly", "Emily", "Donna", "Michelle",
    "Carol", "Amanda", "Melissa", "Deborah", "Stephanie", "Dorothy", "Rebecca", "Sharon", "Laura", "Cynthia",
    "Amy", "Kathleen", "Angela", "Shirley", "Brenda", "Emma", "Anna", "Pamela", "Nicole", "Samantha",
    "Katherine", "Christine", "Helen", "Debra", "Rachel", "Carolyn", "Janet", "Maria", "Catherine", "Heather",
    "Diane", "Olivia", "Julie", "Joyce", "Victoria", "Ruth", "Virginia", "Lauren", "Kelly", "Christina",
    "Joan", "Evelyn", "Judith", "Andrea", "Hannah", "Megan", "Cheryl", "Jacqueline", "Martha", "Madison",
    "Teresa", "Gloria", "Sara", "Janice", "Ann", "Kathryn", "Abigail", "Sophia", "Frances", "Jean",
    "Alice", "Judy", "Isabella", "Julia", "Grace", "Amber", "Denise", "Danielle", "Marilyn", "Beverly",
    "Charlotte", "Natalie", "Theresa", "Diana", "Brittany", "Doris", "Kayla", "Alexis", "Lori", "Ava",
    "Mia", "Amelia", "Harper", "Chloe", "Tiffany", "Crystal", "Tammy", "Rose", "Mildred", "Dolores",
    "Ella", "Lily", "Camila", "Sofia", "Gianna", "Aria", "Luna",
};

constexpr const char* kUsFamily[] = {
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
    "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
    "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
    "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
    "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
    "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton", "Graham",
    "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson",
    "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens",
    "Harrison", "Fernandez", "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen",
    "Freeman", "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter",
    "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks",
    "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox",
    "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "O'Brien", "O'Connor", "McCarthy",
};

constexpr City kUsCities[] = {
    {"New York", "New York County", "NY", "100##", "(212) 5##-####", 8300},
    {"Los Angeles", "Los Angeles County", "CA", "900##", "(213) 4##-####", 3900},
    {"Chicago", "Cook County", "IL", "606##", "(312) 7##-####", 2700},
    {"Houston", "Harris County", "TX", "770##", "(713) 5##-####", 2300},
    {"Phoenix", "Maricopa County", "AZ", "850##", "(602) 2##-####", 1600},
    {"Philadelphia", "Philadelphia County", "PA", "191##", "(215) 4##-####", 1580},
    {"San Antonio", "Bexar County", "TX", "782##", "(210) 3##-####", 1450},
    {"San Diego", "San Diego County", "CA", "921##", "(619) 2##-####", 1390},
    {"Dallas", "Dallas County", "TX", "752##", "(214) 3##-####", 1300},
    {"Austin", "Travis County", "TX", "787##", "(512) 4##-####", 960},
    {"Jacksonville", "Duval County", "FL", "322##", "(904) 3##-####", 950},
    {"Columbus", "Franklin County", "OH", "432##", "(614) 2##-####", 905},
    {"Indianapolis", "Marion County", "IN", "462##", "(317) 6##-####", 880},
    {"Charlotte", "Mecklenburg County", "NC", "282##", "(704) 3##-####", 880},
    {"San Francisco", "San Francisco County", "CA", "941##", "(415) 5##-####", 810},
    {"Seattle", "King County", "WA", "981##", "(206) 3##-####", 750},
    {"Denver", "Denver County", "CO", "802##", "(303) 5##-####", 710},
    {"Nashville", "Davidson County", "TN", "372##", "(615) 2##-####", 690},
    {"Oklahoma City", "Oklahoma County", "OK", "731##", "(405) 2##-####", 690},
    {"Washington", "District of Columbia", "DC", "200##", "(202) 4##-####", 670},
    {"Boston", "Suffolk County", "MA", "021##", "(617) 5##-####", 650},
    {"Las Vegas", "Clark County", "NV", "891##", "(702) 3##-####", 650},
    {"Portland", "Multnomah County", "OR", "972##", "(503) 2##-####", 640},
    {"Detroit", "Wayne County", "MI", "482##", "(313) 8##-####", 630},
    {"Memphis", "Shelby County", "TN", "381##", "(901) 5##-####", 620},
    {"Louisville", "Jefferson County", "KY", "402##", "(502) 5##-####", 620},
    {"Baltimore", "Baltimore City", "MD", "212##", "(410) 5##-####", 570},
    {"Milwaukee", "Milwaukee County", "WI", "532##", "(414) 2##-####", 560},
    {"Albuquerque", "Bernalillo County", "NM", "871##", "(505) 2##-####", 560},
    {"Kansas City", "Jackson County", "MO", "641##", "(816) 4##-####", 510},
    {"Atlanta", "Fulton County", "GA", "303##", "(404) 5##-####", 500},
    {"Omaha", "Douglas County", "NE", "681##", "(402) 5##-####", 485},
    {"Miami", "Miami-Dade County", "FL", "331##", "(305) 5##-####", 450},
    {"Minneapolis", "Hennepin County", "MN", "554##", "(612) 3##-####", 425},
    {"Cleveland", "Cuyahoga County", "OH", "441##", "(216) 6##-####", 370},
    {"New Orleans", "Orleans Parish", "LA", "701##", "(504) 5##-####", 370},
    {"Honolulu", "Honolulu County", "HI", "968##", "(808) 5##-####", 350},
    {"Pittsburgh", "Allegheny County", "PA", "152##", "(412) 3##-####", 300},
    {"St. Louis", "City of St. Louis", "MO", "631##", "(314) 4##-####", 290},
    {"Salt Lake City", "Salt Lake County", "UT", "841##", "(801) 5##-####", 200},
};

constexpr const char* kUsStreets[] = {
    "Main Street", "Second Street", "Third Street", "First Street", "Fourth Street", "Park Avenue",
    "Fifth Street", "Sixth Street", "Oak Street", "Seventh Street", "Pine Street", "Maple Avenue", "Cedar Street",
    "Eighth Street", "Elm Street", "Washington Street", "Ninth Street", "Lake Street", "Hill Street",
    "Walnut Street", "Spring Street", "North Street", "Ridge Road", "Church Street", "Willow Street",
    "Mill Street", "Sunset Drive", "Jackson Street", "Cherry Street", "Highland Avenue", "Center Street",
    "Lincoln Avenue", "Madison Avenue", "Jefferson Street", "Franklin Street", "Chestnut Street", "Meadow Lane",
    "Lakeview Drive", "Forest Drive", "River Road", "Hillcrest Drive", "Dogwood Drive", "Adams Street",
    "Broadway", "College Avenue", "Union Street", "Prospect Avenue", "Grove Street", "Spruce Street",
    "Birch Street", "Locust Street", "Poplar Street", "Magnolia Avenue", "Orchard Lane", "Valley Road",
    "Church Road", "School Street", "Market Street", "Water Street", "Front Street", "High Street",
    "Pleasant Street", "Railroad Avenue", "Green Street", "Summit Avenue", "Woodland Drive", "Sycamore Street",
    "Grant Avenue", "Monroe Street", "Wilson Avenue", "Liberty Street", "Central Avenue", "State Street",
    "Court Street", "Bridge Street", "Elmwood Avenue", "Fairview Avenue", "Laurel Street", "Hickory Lane",
    "Rosewood Drive", "Cedar Lane", "Oak Avenue", "Maple Drive", "Park Place",
};

constexpr const char* kUsHospitals[] = {
    "{city} General Hospital", "{city} Medical Center", "St. Mary's Hospital {city}",
    "{city} Memorial Hospital", "Mercy Hospital {city}", "{city} Regional Medical Center",
    "University Hospital {city}",
};

constexpr const char* kUsClinics[] = {
    "{city} Family Practice", "{family} Family Medicine", "{city} Primary Care", "{city} Community Health Center",
    "{family} Medical Group", "{city} Internal Medicine Associates", "{family} & Associates Family Practice",
};

// ---------------------------------------------------------------------------------------------

// Age bands 0-9 ... 90-99, shares of the total population (100+ folded into 90-99).
constexpr Locale kLocales[] = {
    {
        .region = Region::kUk,
        .code = "uk",
        .country = "GB",
        .language = "en-GB",
        .language_display = "English (United Kingdom)",
        .male_given = kUkMale,
        .female_given = kUkFemale,
        .family = kUkFamily,
        .cities = kUkCities,
        .streets = kUkStreets,
        .number_first = true,
        .mobile = "077## ######",
        .hospital_names = kUkHospitals,
        .clinic_names = kUkClinics,
        // ONS mid-2022 estimates, UK.
        .age_bands = {0.114, 0.118, 0.128, 0.136, 0.127, 0.134, 0.109, 0.084, 0.041, 0.009},
    },
    {
        .region = Region::kDe,
        .code = "de",
        .country = "DE",
        .language = "de-DE",
        .language_display = "German (Germany)",
        .male_given = kDeMale,
        .female_given = kDeFemale,
        .family = kDeFamily,
        .cities = kDeCities,
        .streets = kDeStreets,
        .number_first = false,
        .mobile = "017# #######",
        .hospital_names = kDeHospitals,
        .clinic_names = kDeClinics,
        // Destatis, population on 31 December 2022.
        .age_bands = {0.094, 0.092, 0.107, 0.131, 0.121, 0.154, 0.135, 0.092, 0.063, 0.011},
    },
    {
        .region = Region::kFr,
        .code = "fr",
        .country = "FR",
        .language = "fr-FR",
        .language_display = "French (France)",
        .male_given = kFrMale,
        .female_given = kFrFemale,
        .family = kFrFamily,
        .cities = kFrCities,
        .streets = kFrStreets,
        .number_first = true,
        .mobile = "06 ## ## ## ##",
        .hospital_names = kFrHospitals,
        .clinic_names = kFrClinics,
        // INSEE, population on 1 January 2023 (France including overseas départements).
        .age_bands = {0.111, 0.124, 0.113, 0.121, 0.126, 0.130, 0.118, 0.095, 0.050, 0.012},
    },
    {
        .region = Region::kUs,
        .code = "us",
        .country = "US",
        .language = "en-US",
        .language_display = "English (United States)",
        .male_given = kUsMale,
        .female_given = kUsFemale,
        .family = kUsFamily,
        .cities = kUsCities,
        .streets = kUsStreets,
        .number_first = true,
        .mobile = "(917) 4##-####",
        .hospital_names = kUsHospitals,
        .clinic_names = kUsClinics,
        // US Census Bureau, Vintage 2022 estimates (1 July 2022).
        .age_bands = {0.118, 0.130, 0.135, 0.136, 0.125, 0.126, 0.117, 0.075, 0.031, 0.007},
    },
};

// clang-format on

}  // namespace

// kLocales is indexed by Region.
static_assert(kLocales[static_cast<int>(Region::kUk)].region == Region::kUk);
static_assert(kLocales[static_cast<int>(Region::kDe)].region == Region::kDe);
static_assert(kLocales[static_cast<int>(Region::kFr)].region == Region::kFr);
static_assert(kLocales[static_cast<int>(Region::kUs)].region == Region::kUs);

const Locale& LocaleOf(Region region) { return kLocales[static_cast<int>(region)]; }

bool ParseRegion(std::string_view code, Region& out) {
  for (const Locale& locale : kLocales) {
    if (code == locale.code) {
      out = locale.region;
      return true;
    }
  }
  return false;
}

}  // namespace ehr::synth
