package main

import "testing"

// The same registration sent twice answers the parcel registered first
// (200); the same application number with another body answers 409.
func TestRegistrationSentAgain(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	body := parcelBody("13912345678")
	first := s.must(201, "POST", "/api/v1/parcels", tok["api"], body)
	again := s.must(200, "POST", "/api/v1/parcels", tok["api"], body)
	if again.str("waybill_no") != first.str("waybill_no") || again.str("status_text") != "已登记" {
		t.Fatalf("sent again: %s (first %s)", again.Body, first.Body)
	}
	other := parcelBody("13912345679")
	other["application_no"] = body["application_no"]
	r := s.do("POST", "/api/v1/parcels", tok["api"], other)
	if r.Status != 409 || r.errCode() != "parcel.application_no_taken" {
		t.Fatalf("another body under the number: %d %s", r.Status, r.Body)
	}
	list := s.must(200, "GET", "/api/v1/parcels?q="+body["application_no"].(string), tok["admin"], nil)
	if n := len(list.JSON["items"].([]any)); n != 1 {
		t.Fatalf("%d parcels under one application number", n)
	}
}
