package labels_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
)

func ExampleTrackURL() {
	url, err := labels.TrackURL("https://zwfw.changchun.gov.cn/", "CP4821937460215L")
	fmt.Println(url, err)
	// Output: HTTPS://ZWFW.CHANGCHUN.GOV.CN/T/CP4821937460215L <nil>
}

func ExampleRenderer_Waybill() {
	r, err := labels.NewRenderer(labels.Options{PublicURL: "https://zwfw.changchun.gov.cn"})
	if err != nil {
		panic(err)
	}
	var pdf bytes.Buffer
	flags, err := r.Waybill(&pdf, labels.Label{
		WaybillNo:     "CP4821937460215L",
		Kind:          shipment.KindCertificate,
		Origin:        labels.Place{Code: "D-SW", Name: "长春市商务局"},
		Destination:   labels.Place{Code: "NA-HALL", Name: "农安县政务服务中心"},
		Window:        "3号窗口",
		RecipientName: "张小三\U0010FFFD", // printed 张**U+10FFFD in a box: flagged
		Phone:         "13812345678",   // printed 138********
		CertType:      "营业执照",
		RegisteredAt:  time.Date(2026, 11, 27, 9, 30, 0, 0, time.Local),
	})
	fmt.Println(flags, err, bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-")))
	// Output: [CP4821937460215L: U+10FFFD] <nil> true
}
