/** Reference data of the local sandbox: where postcodes lead, and what each customer can book. */

export interface Place {
  suburb: string;
  city: string;
  state: string;
  stateName: string;
}

/** Australian postcodes the sandbox resolves; any other (or a non-AU country) is unresolvable. */
export const kPostcodes: Record<string, Place> = {
  '2000': { suburb: 'BARANGAROO', city: 'Sydney', state: 'NSW', stateName: 'New South Wales' },
  '2600': { suburb: 'CANBERRA', city: 'Canberra', state: 'ACT', stateName: 'Australian Capital Territory' },
  '3000': { suburb: 'MELBOURNE', city: 'Melbourne', state: 'VIC', stateName: 'Victoria' },
  '4000': { suburb: 'BRISBANE CITY', city: 'Brisbane', state: 'QLD', stateName: 'Queensland' },
  '5000': { suburb: 'ADELAIDE', city: 'Adelaide', state: 'SA', stateName: 'South Australia' },
  '6000': { suburb: 'PERTH', city: 'Perth', state: 'WA', stateName: 'Western Australia' },
  '7000': { suburb: 'HOBART', city: 'Hobart', state: 'TAS', stateName: 'Tasmania' },
  '0800': { suburb: 'DARWIN CITY', city: 'Darwin', state: 'NT', stateName: 'Northern Territory' },
};

export interface RateCard {
  carrierId: string;
  serviceId: string;
  serviceName: string;
  rateCardId: string;
  rateCardName: string;
  serviceType: 'DOMESTIC' | 'INTERNATIONAL';
  serviceClass: 'STANDARD' | 'EXPRESS';
  base: number;
  perKg: number;
  minDays: number;
  maxDays: number;
  fuelLevyRate: number;
  spot: boolean;
}

export const kRateCards: RateCard[] = [
  { carrierId: 'CARRIER-TNT', serviceId: 'TNT-RF', serviceName: 'Road Express', rateCardId: 'RC-TNT-RF-2026', rateCardName: 'TNT Road Express 2026', serviceType: 'DOMESTIC', serviceClass: 'STANDARD', base: 10, perKg: 0.4, minDays: 1, maxDays: 5, fuelLevyRate: 0.18, spot: false },
  { carrierId: 'CARRIER-TNT', serviceId: 'TNT-ON', serviceName: 'Overnight Express', rateCardId: 'RC-TNT-ON-2026', rateCardName: 'TNT Overnight 2026', serviceType: 'DOMESTIC', serviceClass: 'EXPRESS', base: 18, perKg: 0.9, minDays: 1, maxDays: 1, fuelLevyRate: 0.18, spot: false },
  { carrierId: 'CARRIER-AUP', serviceId: 'AUP-PP', serviceName: 'Parcel Post', rateCardId: 'RC-AUP-PP-STD', rateCardName: 'Parcel Post standard', serviceType: 'DOMESTIC', serviceClass: 'STANDARD', base: 8.5, perKg: 0.55, minDays: 2, maxDays: 6, fuelLevyRate: 0.12, spot: false },
  { carrierId: 'CARRIER-AUP', serviceId: 'AUP-PP', serviceName: 'Parcel Post', rateCardId: 'RC-AUP-PP-BULK', rateCardName: 'Parcel Post bulk', serviceType: 'DOMESTIC', serviceClass: 'STANDARD', base: 7, perKg: 0.6, minDays: 2, maxDays: 7, fuelLevyRate: 0.12, spot: false },
  { carrierId: 'CARRIER-AUP', serviceId: 'AUP-EX', serviceName: 'Express Post', rateCardId: 'RC-AUP-EX-STD', rateCardName: 'Express Post standard', serviceType: 'DOMESTIC', serviceClass: 'EXPRESS', base: 14, perKg: 0.8, minDays: 1, maxDays: 3, fuelLevyRate: 0.12, spot: true },
  { carrierId: 'CARRIER-DHL', serviceId: 'DHL-WW', serviceName: 'Worldwide Express', rateCardId: 'RC-DHL-WW', rateCardName: 'DHL Worldwide', serviceType: 'INTERNATIONAL', serviceClass: 'EXPRESS', base: 55, perKg: 4.2, minDays: 3, maxDays: 8, fuelLevyRate: 0.22, spot: false },
];

export interface OrganisationSeed {
  id: string;
  name: string;
  /** Customer internal id → the rate cards that customer may book. */
  customers: Record<string, string[]>;
  /** Key names; `revoked` ones are revoked at start. */
  keys: { name: string; revoked?: boolean }[];
}

export const kOrganisations: OrganisationSeed[] = [
  {
    id: 'org-acme',
    name: 'Acme Freight',
    customers: {
      ACME: kRateCards.map(card => card.rateCardId),
      'ACME-WEST': ['RC-TNT-RF-2026', 'RC-AUP-PP-STD', 'RC-AUP-EX-STD'],
    },
    keys: [{ name: 'active' }, { name: 'second' }, { name: 'revoked', revoked: true }],
  },
  {
    id: 'org-globex',
    name: 'Globex Logistics',
    customers: { GLOBEX: ['RC-TNT-RF-2026', 'RC-DHL-WW'] },
    keys: [{ name: 'active' }],
  },
];
